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
from functions.domain.model_answer import check_model_version, check_predicted_result, check_score


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
        if sum(c.isprintable() or c.isspace() for c in preview) < 0.9 * len(preview):
            raise BackendError(f"{what} is not JSON: {len(body)} bytes of binary data") from None
        raise BackendError(f"{what} is not JSON: {preview!r}") from None
    except ValidationFailed as exc:
        raise BackendError(f"{what}: {' '.join(exc.errors['answer'])}") from None
    except RecursionError:
        raise BackendError(f"{what} is JSON nested too deeply to read") from None


def results_of(answer) -> list:
    """The `results` list of a `/predict` answer."""
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        raise BackendError('the /predict answer must be an object with a "results" list')
    return answer["results"]


def answer_version(answer) -> str | None:
    """The `model_version` a `/predict` answer names for all its predictions."""
    try:
        return check_model_version(answer.get("model_version") if isinstance(answer, dict) else None)
    except InvalidResult as exc:
        raise BackendError(f"the /predict answer's {exc}") from None


def drafts_for(entry, config: LabelConfig, index: int) -> list[PredictionDraft]:
    """One task's entry: a prediction dict, or a list of them (several predictions for one task)."""
    items = entry if isinstance(entry, list) else [entry]
    drafts = []
    for item in items:
        if not isinstance(item, dict) or "result" not in item:
            raise BackendError(f'results[{index}] must be a prediction object with a "result"')
        try:
            check_predicted_result(item["result"], config)
            score = check_score(item.get("score"))
            version = check_model_version(item.get("model_version"))
        except InvalidResult as exc:
            raise BackendError(f"results[{index}]: {exc}") from None
        if score is not None and (problem := number_problem(score)):  # 1e-145: in range, not storable
            raise BackendError(f"results[{index}].score: {problem}")
        drafts.append(PredictionDraft(item["result"], score, version))
    return drafts


def parse_predictions(results: list, task_count: int, config: LabelConfig) -> list[list[PredictionDraft]]:
    """Per task, in order, its predictions. Any bad entry fails the whole batch.

    No results at all is a model that abstains (an untrained one, say): no predictions, not a failure."""
    if not results:
        return [[] for _ in range(task_count)]
    if len(results) != task_count:
        raise BackendError(f"the backend answered {len(results)} results for {task_count} tasks")
    return [drafts_for(entry, config, i) for i, entry in enumerate(results)]
