"""The `http` kind: Label Studio's ML-backend protocol over HTTP, as Label Studio 1.23 speaks it.

`GET /health`, then `POST /setup` (which reports the model version), then `POST /predict`; `GET
/versions` where the backend has it (the SDK has none: a 404 or 405 is normal); the training button is
`POST /webhook {"action": "START_TRAINING", "project": {...}}`. Basic auth goes on every call.
Every URL is SSRF-guarded (guarded_http.py).
"""

from __future__ import annotations

from functions.domain.ml_backend import MLBackend
from functions.domain.records import Project
from functions.domain.url_guard import BlockedURL, parse_allow_list
from functions.ml import guarded_http
from functions.ml.protocol import BackendDown, extra_params_text, predict_request, project_uid
from functions.ml.responses import BackendError, answer_version, parse_json, results_of
from functions.settings import Settings


class HttpBackend:
    def __init__(self, backend: MLBackend, settings: Settings):
        self.backend = backend
        self.settings = settings
        self.allow = parse_allow_list(settings.allowed_hosts)

    def _url(self, path: str) -> str:
        # Label Studio joins with the URL's own path kept, so "http://host/prefix" works.
        return self.backend.url.rstrip("/") + "/" + path

    def _call(self, method: str, path: str, timeout: float, json_body=None) -> guarded_http.Response:
        headers = {}
        if self.backend.auth_method == "BASIC_AUTH":
            headers["Authorization"] = guarded_http.basic_auth_header(
                self.backend.basic_auth_user, self.backend.basic_auth_pass
            )
        try:
            return guarded_http.request(
                method,
                self._url(path),
                allow=self.allow,
                timeout=timeout,
                connect_timeout=self.settings.ml_connect_timeout,
                retries=self.settings.ml_retries,
                max_bytes=self.settings.ml_max_response_bytes,
                json_body=json_body,
                headers=headers,
            )
        except BlockedURL as exc:
            raise BackendError(str(exc)) from None
        except guarded_http.Unreachable as exc:
            raise BackendDown(f"{method} {self._url(path)}: {exc}") from None

    def _json(self, response: guarded_http.Response, what: str):
        if response.status == 401:
            raise BackendError(
                f"{what}: the ML backend answered 401: authentication parameters were "
                "either not provided or are incorrect"
            )
        if not response.ok:
            said = _said(response.body)
            raise BackendError(f"{what}: the ML backend answered HTTP {response.status}{said}")
        return parse_json(response.body, f"the answer to {what}")

    def health(self) -> None:
        response = self._call("GET", "health", self.settings.ml_health_timeout)
        if response.status == 401:
            self._json(response, "GET /health")
        if not response.ok:
            raise BackendDown(f"GET /health: the ML backend answered HTTP {response.status}")
        parse_json(response.body, "the answer to GET /health")

    def setup(self, project: Project) -> str:
        self.health()
        body = {
            "project": project_uid(project),
            "schema": project.label_config,
            "hostname": "",
            "access_token": "",
            "extra_params": extra_params_text(self.backend.extra_params),
        }
        answer = self._json(self._call("POST", "setup", self.settings.ml_setup_timeout, body), "POST /setup")
        version = answer.get("model_version") if isinstance(answer, dict) else None
        if not isinstance(answer, dict):
            raise BackendError("the answer to POST /setup must be a JSON object")
        return "" if version is None else str(version)

    def predict(
        self,
        project: Project,
        tasks: list[dict],
        *,
        context: dict | None = None,
        timeout: float | None = None,
    ) -> tuple[list, str | None]:
        response = self._call(
            "POST",
            "predict",
            timeout or self.backend.timeout or self.settings.ml_predict_timeout,
            predict_request(project, tasks, context),
        )
        answer = self._json(response, "POST /predict")
        return results_of(answer), answer_version(answer)

    def versions(self) -> list[str] | None:
        response = self._call("GET", "versions", self.settings.ml_setup_timeout)
        if response.status in (404, 405):  # the SDK has no such route (1.0.x: POST only)
            return None
        answer = self._json(response, "GET /versions")
        found = answer.get("versions") if isinstance(answer, dict) else None
        if not isinstance(found, list):
            raise BackendError('the answer to GET /versions must have a "versions" list')
        return [str(v) for v in found]

    def train(self, project_payload: dict) -> object:
        """Label Studio's training call (START_TRAINING to /webhook); what the backend answered."""
        response = self._call(
            "POST",
            "webhook",
            self.settings.ml_train_timeout,
            {"action": "START_TRAINING", "project": project_payload},
        )
        return self._json(response, "POST /webhook START_TRAINING")


def _said(body: bytes) -> str:
    """What the backend said with an error status, shortened (the SDK answers `{"error": "..."}`)."""
    text = body[:200].decode("utf-8", "replace").strip()
    return f": {text}" if text else ""
