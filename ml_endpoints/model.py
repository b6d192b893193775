"""The base class of every model, with the interface of Label Studio's `LabelStudioMLBase`.

A model written for Label Studio's ML SDK runs here after changing only its import to
`from ml_endpoints.model import LabelStudioMLBase` (and `ModelResponse`). Both generations of that SDK
are served:

- the current one (label-studio-ml-backend): `__init__(project_id, label_config)`, `setup()`,
  `predict(tasks, context=None, **kwargs)`, `fit(event, data, **kwargs)`, `get`/`set`, `model_version`;
- the PyPI release 1.0.9: `__init__(label_config=None, train_output=None, **kwargs)`,
  `predict(tasks, **kwargs)`, `fit(tasks, workdir=None, **kwargs)`, whose return value is handed to the
  next instance as `train_output` and whose every run is a new model version.

As in Label Studio a new instance serves each request, so anything that must outlive a request goes to
`set()` or to a file in `model_dir`. Built-in models load their artifact through `ml_endpoints.artifacts`,
which keeps it in memory until the file changes.

State is kept per project, so one server can back many projects without one's training changing what
another is served: `get`/`set` are keyed by project id (as in Label Studio's SDK), and the server gives
each project's Label Studio requests their own `model_dir` (`$MODEL_DIR/projects/<id>`, see
`project_model_dir`). SageMaker's routes get `$MODEL_DIR` itself: an endpoint serves the one model
deployed to it.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from functions.domain.label_config import parse_label_config
from ml_endpoints.cache import Cache

INITIAL_MODEL_VERSION = "0.0.1"


def model_dir() -> Path:
    """Where models keep artifacts and state: `MODEL_DIR`, as in Label Studio's SDK. It also holds what
    an endpoint serves, and operator-owned files (rules, settings) every project shares."""
    return Path(os.environ.get("MODEL_DIR") or ".")


def project_model_dir(project_id: str) -> Path:
    """One project's artifacts: what it trained through Label Studio's protocol."""
    return model_dir() / "projects" / project_id


@functools.lru_cache(maxsize=8)
def _cache(path: Path) -> Cache:
    return Cache(path)


@functools.lru_cache(maxsize=64)
def _parsed_json(label_config: str) -> str:
    # The one parser the platform uses (defusedxml, Label Studio's `parse_config` output key for key).
    # Cached as text so each instance gets its own copy to mutate.
    return json.dumps(parse_label_config(label_config).parsed)


class PredictionValue(BaseModel):
    """One prediction for one task, as Label Studio stores it."""

    model_version: str | None = None
    score: float | None = 0.0
    result: list[Any] = []


class ModelResponse(BaseModel):
    """What `predict` may return instead of a list: predictions plus the version that made them."""

    model_version: str | None = None
    predictions: Sequence[PredictionValue | list[PredictionValue]] = []

    def has_model_version(self) -> bool:
        return bool(self.model_version)

    def set_version(self, version: str) -> None:
        self.model_version = version

    def update_predictions_version(self) -> None:
        """Give every prediction without a version the response's version (what Label Studio's SDK does)."""
        for entry in self.predictions:
            for prediction in entry if isinstance(entry, list) else [entry]:
                if not prediction.model_version:
                    prediction.model_version = self.model_version


class LabelStudioMLBase:
    TRAIN_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_DELETED", "START_TRAINING")

    def __init__(
        self,
        project_id: str | None = None,
        label_config: str | None = None,
        train_output: dict | None = None,
        **kwargs,
    ):
        self.project_id = "" if project_id is None else str(project_id)
        # The server passes the project's own folder (or the endpoint's); built directly, `MODEL_DIR`.
        self.model_dir = str(kwargs.pop("model_dir", None) or model_dir())
        # One state file for every project, keyed by project id, where Label Studio's SDK keeps it. A
        # SageMaker endpoint's model dir may be read-only; ML_CACHE_DIR puts the state elsewhere.
        self._cache = _cache(Path(os.environ.get("ML_CACHE_DIR") or model_dir()).resolve())
        self.hostname = kwargs.get("hostname", "")
        self.access_token = kwargs.get("access_token", "")
        self.use_label_config(label_config)
        stored_output = self.get("train_output")
        self.train_output = (
            train_output if train_output is not None else (json.loads(stored_output) if stored_output else {})
        )
        if not self.has("model_version"):
            self.set("model_version", INITIAL_MODEL_VERSION)
        self.setup()

    # -- hooks a model overrides --------------------------------------------------------------------

    def setup(self) -> None:
        """Called at the end of `__init__`; typically `self.set("model_version", ...)`."""

    def predict(self, tasks: list[dict], context: dict | None = None, **kwargs) -> list | ModelResponse:
        """One prediction (or a list of them) per task, in order; `context` is set for interactive calls."""
        return []

    def fit(self, event: str, data: dict, **kwargs) -> Any:
        """Train on a Label Studio event (`ANNOTATION_CREATED`, `START_TRAINING`, ...) and its payload."""
        return {}

    @classmethod
    def check_ready(cls) -> None:
        """Raise if the model cannot serve (SageMaker's `/ping`); a loaded class can, by default."""

    # -- label config --------------------------------------------------------------------------------

    def use_label_config(self, label_config: str | None) -> None:
        """Adopt `label_config`, or the one last seen for this project when none is given."""
        if label_config:
            parsed = _parsed_json(label_config)
            if self.get("label_config") != label_config:
                self.set("label_config", label_config)
                self.set("parsed_label_config", parsed)
        self.label_config = self.get("label_config")
        stored = self.get("parsed_label_config")
        self.parsed_label_config = json.loads(stored) if stored else {}

    def get_first_tag_occurence(self, control_type, object_type, name_filter=None, to_name_filter=None):
        """`(from_name, to_name, data key)` of the first `control_type` tag reading an `object_type` tag."""
        controls = (control_type,) if isinstance(control_type, str) else tuple(control_type)
        objects = (object_type,) if isinstance(object_type, str) else tuple(object_type)
        for from_name, info in self.parsed_label_config.items():
            if info["type"] not in controls or (name_filter and not name_filter(from_name)):
                continue
            for to_name, source in zip(info["to_name"], info["inputs"], strict=False):
                if source["type"] in objects and (not to_name_filter or to_name_filter(to_name)):
                    return from_name, to_name, source.get("value")
        raise ValueError(f"no {'/'.join(controls)} tag reading a {'/'.join(objects)} tag in the label config")

    @functools.cached_property
    def label_interface(self):
        """label-studio-sdk's `LabelInterface` for the config, for models that build regions with it."""
        from label_studio_sdk.label_interface import LabelInterface

        if self.label_config is None:
            raise ValueError("no label config: the model was not set up with a project's config")
        return LabelInterface(self.label_config)

    # -- state ---------------------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        return self._cache.get(self.project_id, key)

    def set(self, key: str, value: str) -> None:
        self._cache.set(self.project_id, key, value)

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    @property
    def model_version(self) -> str:
        return self.get("model_version") or INITIAL_MODEL_VERSION

    def bump_model_version(self) -> str:
        """A new version that sorts after the old one; Label Studio's own helper does not change it."""
        version = f"{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{time.time_ns() % 1_000_000:06d}"
        self.set("model_version", version)
        return version

    @property
    def extra_params(self) -> dict:
        stored = self.get("extra_params")
        return json.loads(stored) if stored else {}

    def set_extra_params(self, extra_params: str | dict | None) -> None:
        """Store the backend's extra params; Label Studio sends a JSON string, the SDK stores it as such."""
        if isinstance(extra_params, dict):
            extra_params = json.dumps(extra_params)
        if extra_params:
            json.loads(extra_params)  # a string that is not JSON is refused here, not at every later read
            self.set("extra_params", extra_params)

    # -- what the server calls -----------------------------------------------------------------------

    def process_event(self, event: str, data: dict, job_id=None, additional_params: dict | None = None):
        """Train on `event` if it is a training event; the SDK's name for this step."""
        if event in self.TRAIN_EVENTS:
            return self.train_on(event, data)
        return None

    def train_on(self, event: str, data: dict, tasks: list | None = None) -> Any:
        """Call `fit` the way the model's generation of the SDK expects.

        The 1.0.9 SDK called `fit(tasks, workdir, **kwargs)` (tasks: the legacy `/train` body's
        `annotations`, else empty), kept its return value as the next instance's `train_output`, and
        made every run a new model version; the current SDK calls `fit(event, data)`.
        """
        if _first_parameter(self.fit) == "event":
            return self.fit(event, data)
        legacy_fit: Callable[..., Any] = self.fit  # a subclass's fit(tasks, workdir, **kwargs)
        output = legacy_fit(tasks or (), workdir=self.model_dir, event=event, data=data)
        self.set("train_output", json.dumps(output if output is not None else {}))
        self.bump_model_version()
        return output


def _first_parameter(method) -> str | None:
    parameters = [
        p
        for p in inspect.signature(method).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return parameters[0].name if parameters else None
