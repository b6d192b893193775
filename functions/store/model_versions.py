"""The model versions of a project's predictions, counted (ModelVersionModel): one item per version with
its number of predictions and when the latest arrived, so listing them, or asking whether a version
exists, is one Query or GetItem however many predictions the project has.

The counts move with atomic ADDs wherever predictions are stored or deleted (store/predictions.py). A
project created before the counts existed has no `counted` item: it is counted once, from its
predictions (`recount`), by whoever claims that first; predictions stored or deleted while that count
runs may be off by their number until it is counted again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from functions.domain.records import utcnow
from functions.store.errors import is_condition_failure
from functions.store.models import ModelVersionModel, PredictionModel

_PREFIX = "v:"
_COUNTED = ModelVersionModel.COUNTED_KEY
# The `counted` item's `predictions`: 0 while a count runs (claimed at `latest`), 1 once done.
_COUNTING, _DONE = 0, 1
# A count claimed this long ago and not done died with its process: another may take over.
STALE_COUNT = timedelta(minutes=15)


@dataclass(frozen=True)
class VersionCount:
    model_version: str
    count: int
    latest: datetime | None


def _key(model_version: str) -> str:
    # A prefix, so the empty version is a valid (non-empty) range key and never meets `counted`.
    return _PREFIX + model_version


def add(project_id: int, deltas: dict[str, int], at: datetime | None = None) -> None:
    """ADD each version's delta to its count; a version gaining predictions is also the latest at `at`."""
    for model_version, delta in deltas.items():
        if not delta:
            continue
        actions: list[Action] = [
            ModelVersionModel.predictions.add(delta),
            ModelVersionModel.model_version.set(model_version),
        ]
        if delta > 0:
            actions.append(ModelVersionModel.latest.set(at or utcnow()))
        ModelVersionModel(project_id, _key(model_version)).update(actions=actions)


def counts(project_id: int) -> list[VersionCount]:
    """The versions that have predictions, the latest first (Label Studio's order)."""
    found = [
        VersionCount(item.model_version or "", int(item.predictions or 0), item.latest)
        for item in ModelVersionModel.query(project_id, ModelVersionModel.key.startswith(_PREFIX))
        if (item.predictions or 0) > 0
    ]
    oldest = datetime.min.replace(tzinfo=utcnow().tzinfo)
    return sorted(found, key=lambda v: (v.latest or oldest, v.model_version), reverse=True)


def has(project_id: int, model_version: str) -> bool:
    """Whether some prediction of the project carries `model_version`."""
    try:
        item = ModelVersionModel.get(project_id, _key(model_version), consistent_read=True)
    except ModelVersionModel.DoesNotExist:
        return False
    return (item.predictions or 0) > 0


def mark_counted(project_id: int) -> None:
    """The project's counts are complete (a new project's are from its start)."""
    ModelVersionModel(project_id, _COUNTED, predictions=_DONE, latest=utcnow()).save()


def is_counted(project_id: int) -> bool:
    try:
        item = ModelVersionModel.get(project_id, _COUNTED, consistent_read=True)
    except ModelVersionModel.DoesNotExist:
        return False
    return int(item.predictions or 0) == _DONE


def claim_count(project_id: int) -> bool:
    """Claim counting an uncounted project's predictions; False if it is counted or another count runs."""
    now = utcnow()
    free = ModelVersionModel.key.does_not_exist() | (
        (ModelVersionModel.predictions == _COUNTING) & (ModelVersionModel.latest < now - STALE_COUNT)
    )
    try:
        ModelVersionModel(project_id, _COUNTED).update(
            actions=[ModelVersionModel.predictions.set(_COUNTING), ModelVersionModel.latest.set(now)],
            condition=free,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def _predictions(project_id: int) -> Iterator[PredictionModel]:
    """The project's predictions' versions and times, 100 a BatchGetItem (the project index has keys)."""
    ids: list[int] = []
    for key in PredictionModel.project_index.query(project_id):
        ids.append(int(key.id))
        if len(ids) == 100:
            yield from PredictionModel.batch_get(ids, attributes_to_get=["id", "model_version", "created_at"])
            ids = []
    if ids:
        yield from PredictionModel.batch_get(ids, attributes_to_get=["id", "model_version", "created_at"])


def recount(project_id: int) -> int:
    """Count the project's predictions by version from the predictions themselves, write the counts over
    what was there, and mark the project counted. Returns how many predictions were counted."""
    found: Counter[str] = Counter()
    latest: dict[str, datetime] = {}
    for item in _predictions(project_id):
        version = item.model_version or ""
        found[version] += 1
        if item.created_at and (version not in latest or item.created_at > latest[version]):
            latest[version] = item.created_at
    stale = {
        item.model_version or ""
        for item in ModelVersionModel.query(project_id, ModelVersionModel.key.startswith(_PREFIX))
    }
    with ModelVersionModel.batch_write() as batch:
        for version in stale | set(found):
            batch.save(
                ModelVersionModel(
                    project_id,
                    _key(version),
                    model_version=version,
                    predictions=found.get(version, 0),
                    latest=latest.get(version),
                )
            )
    mark_counted(project_id)
    return sum(found.values())


def delete_for_project(project_id: int) -> None:
    with ModelVersionModel.batch_write() as batch:
        for item in ModelVersionModel.query(project_id, attributes_to_get=["project_id", "key"]):
            batch.delete(item)
