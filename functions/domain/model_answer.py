"""What a model may answer: a prediction from an ML backend, checked against the project's label config
more strictly than an import.

An import may keep regions whose labels have since left the config (Label Studio does); a model answers
for the config it was just sent, so a label it offers that the config lacks is a bug in the model, and
storing it would show annotators a choice they cannot make. On top of `LabelConfig.validate_result`
(names and types), a predicted region must use only the labels of its control (unless the control's
labels come from the task), hold no NaN or infinite number (JSON cannot carry them, and Python's json
reads them anyway) and nest no deeper than any config's value needs; the score is a finite number in
[0, 1] (the uncertainty sampler sorts on it).

Pure: raises InvalidResult naming the first field that is wrong.
"""

from __future__ import annotations

import math

from functions.domain.label_config import ControlTag, InvalidResult, LabelConfig

# A region is an object whose value holds at most lists of points or label paths: a few levels.
MAX_REGION_DEPTH = 12
SCORE_RANGE = (0.0, 1.0)
MODEL_VERSION_MAX = 255  # Label Studio's column


def check_predicted_result(result: object, config: LabelConfig) -> None:
    """The regions of one prediction fit `config`, with labels the config offers."""
    if isinstance(result, list):
        for i, region in enumerate(result):
            _check_plain_json(region, f"result[{i}]")
    config.validate_result(result)
    for i, region in enumerate(result if isinstance(result, list) else []):
        control = config.control_for(region.get("from_name")) if region.get("type") != "relation" else None
        if control is not None:  # validate_result found the control of every region but relations
            _check_labels(region, control, f"result[{i}]")


def check_score(score: object, where: str = "score") -> float | None:
    """The prediction's score as a float (None when absent)."""
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise InvalidResult(f"{where}: must be a number, got {type(score).__name__}")
    value = float(score)
    low, high = SCORE_RANGE
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidResult(f"{where}: {score!r} is not a number between {low:g} and {high:g}")
    return value


def check_model_version(version: object, where: str = "model_version") -> str | None:
    """The version a prediction names, as a string (None when absent)."""
    if version is None:
        return None
    text = str(version) if isinstance(version, (str, int, float)) and not isinstance(version, bool) else None
    if text is None or len(text) > MODEL_VERSION_MAX:
        raise InvalidResult(f"{where}: must be a string of at most {MODEL_VERSION_MAX} characters")
    return text


def _check_plain_json(region: object, where: str) -> None:
    """No NaN/Infinity anywhere and no deeper than MAX_REGION_DEPTH; iterative, so depth cannot hurt."""
    stack: list[tuple[object, int]] = [(region, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidResult(f"{where}: holds {value!r}, which is not a number JSON can carry")
        if isinstance(value, (dict, list)):
            if depth > MAX_REGION_DEPTH:
                raise InvalidResult(f"{where}: nested more than {MAX_REGION_DEPTH} levels deep")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def _check_labels(region: dict, control: ControlTag, where: str) -> None:
    """A region's label list (`value.choices`, `value.labels`, `value.rectanglelabels`, ...) holds only
    labels of its control. Controls without a fixed list (dynamic labels, TextArea, Taxonomy's paths) are
    not checked."""
    if control.dynamic_labels or not control.labels:
        return
    key = region.get("type")
    if not isinstance(key, str) or not (key == "choices" or key.endswith("labels")):
        return
    chosen = region["value"].get(key)
    if chosen is None:
        return
    if not isinstance(chosen, list) or not all(isinstance(label, str) for label in chosen):
        raise InvalidResult(f"{where}.value.{key}: must be a list of label strings")
    known = set(control.labels)
    for label in chosen:
        if label not in known:
            noun = "choice" if control.type == "choices" else "label"
            raise InvalidResult(
                f'{where}.value.{key}: "{label}" is not a {noun} of <{control.tag} name="{control.name}">; '
                f"expected one of {list(control.labels)}"
            )
