"""Reading what a backend answered to `/predict` (Label Studio's rules, ls-protocol.md 1.4), strictly.

Pure. Anything that is not `{"results": [...]}` with one entry per task (or none), each entry a prediction
(or a list of them) whose regions fit the project's label config, is a BackendError: nothing of the
batch is stored, and the reason goes on the backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.domain.errors import ValidationFailed
from functions.domain.json_limits import NotJSON, number_problem, parse
from functions.domain.label_config import InvalidResult, LabelConfig


class BackendError(Exception):
    """The backend failed or answered something unusable; the message is the reason shown to users."""


@dataclass(frozen=True)
class PredictionDraft:
    result: list
    score: float | None
    model_version: str | None


MODEL_VERSION_MAX = 255


def parse_json(body: bytes, what: str):
    """The answer's JSON, held to what labelstack can store (json_limits: finite numbers in DynamoDB's
    range, valid Unicode, bounded nesting); anything else is the backend's error. Its size is bounded
    where it is read (`ml_max_response_bytes`)."""
    try:
        return parse(body, "answer")
    except NotJSON:
        preview = body[:80].decode("utf-8", "replace")
        raise BackendError(f"{what} is not JSON: {preview!r}") from None
    except ValidationFailed as exc:
        raise BackendError(f"{what}: {' '.join(exc.errors['answer'])}") from None


def results_of(answer) -> list:
    """The `results` list of a `/predict` answer."""
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        raise BackendError('the /predict answer must be an object with a "results" list')
    return answer["results"]


def drafts_for(entry, config: LabelConfig, index: int) -> list[PredictionDraft]:
    """One task's entry: a prediction dict, or a list of them (several predictions for one task)."""
    items = entry if isinstance(entry, list) else [entry]
    drafts = []
    for item in items:
        if not isinstance(item, dict) or "result" not in item:
            raise BackendError(f'results[{index}] must be a prediction object with a "result"')
        try:
            config.validate_result(item["result"])
        except InvalidResult as exc:
            raise BackendError(f"results[{index}]: {exc}") from None
        score = item.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise BackendError(f"results[{index}].score must be a number")
        if score is not None and number_problem(score):
            raise BackendError(f"results[{index}].score: {number_problem(score)}")
        version = item.get("model_version")
        if version is not None and not isinstance(version, str):
            version = str(version)
        if version is not None and len(version) > MODEL_VERSION_MAX:
            raise BackendError(
                f"results[{index}].model_version is longer than {MODEL_VERSION_MAX} characters"
            )
        drafts.append(PredictionDraft(item["result"], float(score) if score is not None else None, version))
    return drafts


def parse_predictions(results: list, task_count: int, config: LabelConfig) -> list[list[PredictionDraft]]:
    """Per task, in order, its predictions. Any bad entry fails the whole batch.

    No results at all is a model that abstains (an untrained one, say): no predictions, not a failure."""
    if not results:
        return [[] for _ in range(task_count)]
    if len(results) != task_count:
        raise BackendError(f"the backend answered {len(results)} results for {task_count} tasks")
    return [drafts_for(entry, config, i) for i, entry in enumerate(results)]
