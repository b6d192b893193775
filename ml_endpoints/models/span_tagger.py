"""Span tagger: keywords and regular expressions for a `<Labels>` on a `<Text>`, and interactive suggestions.

Rules come from three places, merged per label:
- `span_tagger.json` in `MODEL_DIR`: `{"keywords": {"ORG": ["Acme"]}, "patterns": {"DATE": ["\\d{4}"]}}`.
  Only this operator-owned file may hold regular expressions (a pattern is code: it can take exponential
  time on a crafted text); every project shares it;
- the backend's `extra_params` (`{"keywords": {...}}`), matched literally;
- annotations: `fit` adds the text of every labeled span to its label's keywords, in the project's own
  model dir.

Interactive calls (Label Studio's smart tools) send the regions the annotator just drew as `context`;
the answer is a region for every occurrence of each selected text, with the selected labels. A keyword
match is not a probability, so predictions carry `score: null` rather than a number made up for them.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path

from ml_endpoints import artifacts
from ml_endpoints.model import LabelStudioMLBase, ModelResponse, PredictionValue, model_dir

RULES_NAME = "span_tagger.json"
LEARNED_NAME = "span_tagger-learned.json"
MAX_KEYWORD_CHARS = 200
_learned_lock = threading.Lock()


def keyword_pattern(keyword: str) -> re.Pattern:
    """`keyword` literally, case-insensitive, not inside a longer word ("cat" is not in "concatenate")."""
    left = r"(?<!\w)" if re.match(r"\w", keyword) else ""
    right = r"(?!\w)" if re.search(r"\w$", keyword) else ""
    return re.compile(left + re.escape(keyword) + right, re.IGNORECASE)


def find_spans(text: str, rules: dict[str, list[re.Pattern]]) -> list[tuple[int, int, str]]:
    """Every match of every label's patterns as `(start, end, label)`, in text order, without repeats."""
    spans = {
        (m.start(), m.end(), label)
        for label, patterns in rules.items()
        for pattern in patterns
        for m in pattern.finditer(text)
        if m.end() > m.start()
    }
    return sorted(spans)


def _keywords(document: dict | None) -> dict[str, list[str]]:
    found = (document or {}).get("keywords") or {}
    if not isinstance(found, dict):
        return {}
    return {
        str(label): [w for w in words if isinstance(w, str) and 0 < len(w.strip()) <= MAX_KEYWORD_CHARS]
        for label, words in found.items()
        if isinstance(words, list)
    }


class SpanTagger(LabelStudioMLBase):
    def setup(self) -> None:
        self.set("model_version", f"span_tagger-{self._rules_digest()}")

    def _rule_sources(self) -> tuple[dict, dict, dict]:
        return (
            artifacts.read_json(model_dir() / RULES_NAME) or {},
            self.extra_params,
            artifacts.read_json(Path(self.model_dir) / LEARNED_NAME) or {},
        )

    def _rules_digest(self) -> str:
        return hashlib.sha256(json.dumps(self._rule_sources(), sort_keys=True).encode()).hexdigest()[:10]

    def rules(self, labels: list[str]) -> dict[str, list[re.Pattern]]:
        """Compiled rules for the config's labels (all labels the sources name when the config has none)."""
        configured, extra, learned = self._rule_sources()
        rules: dict[str, list[re.Pattern]] = {}
        for source in (configured, extra, learned):
            for label, words in _keywords(source).items():
                rules.setdefault(label, []).extend(keyword_pattern(w) for w in words)
        for label, patterns in (configured.get("patterns") or {}).items():
            rules.setdefault(str(label), []).extend(re.compile(p) for p in patterns if isinstance(p, str))
        return {label: patterns for label, patterns in rules.items() if not labels or label in labels}

    def _control(self) -> tuple[str, str, str] | None:
        try:
            return self.get_first_tag_occurence("Labels", "Text")
        except ValueError:
            return None

    def predict(self, tasks: list[dict], context: dict | None = None, **kwargs) -> ModelResponse:
        control = self._control()
        version = self.model_version
        if control is None:
            return ModelResponse(model_version=version, predictions=[])
        from_name, to_name, text_key = control
        selected = _selected_regions(context, to_name)
        if context and not selected:  # an interactive call with nothing usable selected
            return ModelResponse(model_version=version, predictions=[])
        labels = self.parsed_label_config[from_name]["labels"]
        rules = None if selected else self.rules(labels)
        if rules == {}:
            return ModelResponse(model_version=version, predictions=[])
        predictions = []
        for task in tasks:
            text = (task.get("data") or {}).get(text_key)
            if not isinstance(text, str):
                predictions.append(PredictionValue(model_version=version, score=None, result=[]))
                continue
            spans = _occurrences(text, selected, labels) if rules is None else find_spans(text, rules)
            regions = [_region(from_name, to_name, text, start, end, label) for start, end, label in spans]
            predictions.append(PredictionValue(model_version=version, score=None, result=regions))
        return ModelResponse(model_version=version, predictions=predictions)

    def fit(self, event: str, data: dict, **kwargs) -> dict:
        control = self._control()
        if control is None:
            return {"trained": False, "reason": "the label config has no <Labels> on a <Text>"}
        annotations = [data["annotation"]] if isinstance(data.get("annotation"), dict) else []
        for key in ("annotations", "tasks"):
            for task in data.get(key) or []:
                if isinstance(task, dict):
                    annotations.extend(a for a in task.get("annotations") or [] if isinstance(a, dict))
        with _learned_lock:
            path = Path(self.model_dir) / LEARNED_NAME
            learned = _keywords(artifacts.read_json(path))
            for annotation in annotations:
                if annotation.get("was_cancelled"):
                    continue
                for region in annotation.get("result") or []:
                    value = region.get("value") if isinstance(region, dict) else None
                    if region.get("from_name") != control[0] or not isinstance(value, dict):
                        continue
                    word = value.get("text")
                    if isinstance(word, str) and 0 < len(word.strip()) <= MAX_KEYWORD_CHARS:
                        for label in value.get("labels") or []:
                            words = learned.setdefault(str(label), [])
                            if word.strip() not in words:
                                words.append(word.strip())
            artifacts.write_json(path, {"keywords": learned})
        self.setup()
        return {
            "trained": True,
            "model_version": self.model_version,
            "keywords": sum(len(words) for words in learned.values()),
        }


def _selected_regions(context: dict | None, to_name: str) -> list[dict]:
    """The text regions the annotator selected, from Label Studio's interactive `context`."""
    if not isinstance(context, dict) or not isinstance(context.get("result"), list):
        return []
    return [
        region
        for region in context["result"]
        if isinstance(region, dict)
        and region.get("to_name", to_name) == to_name
        and isinstance(region.get("value"), dict)
    ]


def _occurrences(text: str, selected: list[dict], labels: list[str]) -> list[tuple[int, int, str]]:
    spans: set[tuple[int, int, str]] = set()
    for region in selected:
        value = region["value"]
        start, end = value.get("start"), value.get("end")
        word = value.get("text")
        if not isinstance(word, str) and isinstance(start, int) and isinstance(end, int):
            word = text[start:end]
        if not isinstance(word, str) or not word.strip() or len(word) > MAX_KEYWORD_CHARS:
            continue
        chosen = [str(label) for label in value.get("labels") or labels[:1]]
        for start_, end_, _ in find_spans(text, {"": [keyword_pattern(word.strip())]}):
            spans.update((start_, end_, label) for label in chosen)
    return sorted(spans)


def _region(from_name: str, to_name: str, text: str, start: int, end: int, label: str) -> dict:
    region_id = hashlib.sha1(
        f"{from_name}:{start}:{end}:{label}".encode(), usedforsecurity=False
    ).hexdigest()[:10]
    return {
        "id": region_id,
        "from_name": from_name,
        "to_name": to_name,
        "type": "labels",
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
    }
