"""The webhook an `http` ML backend hears a project's events through (Label Studio's ML-backend webhook).

When an ML backend is connected to a project, Label Studio registers a project webhook to `<backend
url>/webhook` with `send_payload` and `send_for_all_actions` and no headers, unless the project already has
a webhook with that URL (`ml/models.py` `create_ml_webhook`). That is how a backend learns of each
annotation: Label Studio's ML SDK answers ANNOTATION_CREATED and ANNOTATION_UPDATED on `/webhook` by
calling the model's `fit()`.

Label Studio leaves that webhook behind when the backend moves to another URL or is deleted. Here the
webhooks made for backends (those with `ml_backend` set) stay in step with the project's backends:
`plan` says what to create, move and delete so that every `http` backend's `/webhook` has a webhook and
no webhook made for a backend points where no backend is. Webhooks users registered are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.domain.ml_backend import MLBackend
from functions.domain.webhook import Webhook

CREATE, MOVE, DELETE = "create", "move", "delete"


def hook_url(backend_url: str) -> str:
    """Where Label Studio sends a backend's events: its URL's own path kept, `/webhook` after it."""
    return backend_url.rstrip("/") + "/webhook"


@dataclass(frozen=True)
class Change:
    action: str  # CREATE a webhook for `backend` at `url`; MOVE `webhook` to `url` for `backend`; DELETE it
    webhook: int = 0
    backend: int = 0
    url: str = ""


def plan(backends: list[MLBackend], webhooks: list[Webhook]) -> list[Change]:
    """The changes that bring a project's backend webhooks in step with its backends (none when they are).

    A backend that moved takes its webhook along (MOVE keeps the webhook's id, secret and settings);
    a webhook whose backend is gone passes to another backend at the same URL, or is deleted.
    """
    wanting: dict[str, list[int]] = {}  # webhook URL -> the backends (ids, oldest first) that want it
    for backend in sorted(backends, key=lambda b: b.id):
        if backend.kind == "http" and backend.url:
            wanting.setdefault(hook_url(backend.url), []).append(backend.id)
    served = {w.url for w in webhooks if w.ml_backend is None and w.url in wanting}
    changes: list[Change] = []
    orphans: list[Webhook] = []
    for hook in sorted((w for w in webhooks if w.ml_backend is not None), key=lambda w: w.id):
        if hook.url not in wanting or hook.url in served:
            orphans.append(hook)  # nobody wants it, or another webhook already serves its URL
            continue
        served.add(hook.url)
        if hook.ml_backend not in wanting[hook.url]:
            changes.append(Change(MOVE, hook.id, wanting[hook.url][0], hook.url))
    for url, owners in wanting.items():
        if url in served:
            continue
        moved = next((w for w in orphans if w.ml_backend in owners), None)
        if moved is not None:
            orphans.remove(moved)
            changes.append(Change(MOVE, moved.id, moved.ml_backend or 0, url))
        else:
            changes.append(Change(CREATE, backend=owners[0], url=url))
    changes += [Change(DELETE, webhook=w.id) for w in orphans]
    return changes
