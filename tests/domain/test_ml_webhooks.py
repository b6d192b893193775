"""Which webhooks a project's ML backends need (Label Studio's ML-backend webhook), kept in step with the
backends: made for a new URL, moved with a backend, passed on or removed when a backend goes, never
duplicating or touching a webhook a user registered."""

from __future__ import annotations

from functions.domain.ml_backend import MLBackend
from functions.domain.ml_webhooks import CREATE, DELETE, MOVE, Change, hook_url, plan
from functions.domain.webhook import Webhook


def backend(backend_id: int, url: str, kind: str = "http") -> MLBackend:
    return MLBackend(id=backend_id, project_id=1, kind=kind, url=url)


def hook(webhook_id: int, url: str, owner: int | None = None) -> Webhook:
    return Webhook(id=webhook_id, project_id=1, url=url, ml_backend=owner)


def test_the_url_keeps_its_path_as_label_studio_joins_it():
    assert hook_url("http://m:9090") == hook_url("http://m:9090/") == "http://m:9090/webhook"
    assert hook_url("https://m/prefix/") == "https://m/prefix/webhook"


def test_a_backend_gets_one_unless_some_webhook_serves_its_url():
    assert plan([backend(1, "http://a")], []) == [Change(CREATE, backend=1, url="http://a/webhook")]
    assert plan([backend(1, "http://a")], [hook(5, "http://a/webhook")]) == []  # a user's
    assert plan([backend(1, "http://a")], [hook(5, "http://a/webhook", owner=1)]) == []
    shared = [backend(1, "http://a"), backend(2, "http://a/")]
    assert plan(shared, []) == [Change(CREATE, backend=1, url="http://a/webhook")]
    assert plan([backend(1, "", kind="sagemaker")], []) == []


def test_a_moved_backend_takes_its_webhook_along():
    assert plan([backend(1, "http://b")], [hook(5, "http://a/webhook", owner=1)]) == [
        Change(MOVE, webhook=5, backend=1, url="http://b/webhook")
    ]
    # Moved to where a user's webhook already is: its own goes.
    hooks = [hook(5, "http://a/webhook", owner=1), hook(6, "http://b/webhook")]
    assert plan([backend(1, "http://b")], hooks) == [Change(DELETE, webhook=5)]


def test_a_webhook_whose_backend_is_gone_passes_on_or_goes():
    hooks = [hook(5, "http://a/webhook", owner=1)]
    assert plan([backend(2, "http://a")], hooks) == [
        Change(MOVE, webhook=5, backend=2, url="http://a/webhook")
    ]
    assert plan([], hooks) == [Change(DELETE, webhook=5)]
    assert plan([], [hook(6, "http://a/webhook")]) == []  # a user's is never touched


def test_a_duplicate_made_by_a_race_is_removed():
    hooks = [hook(5, "http://a/webhook", owner=1), hook(6, "http://a/webhook", owner=2)]
    assert plan([backend(1, "http://a"), backend(2, "http://a")], hooks) == [Change(DELETE, webhook=6)]
