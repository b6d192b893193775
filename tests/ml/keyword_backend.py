"""A real ML backend for the tests: a model written with PyPI's `label-studio-ml` (1.0.9,
`LabelStudioMLBase`), served by that package's own Flask app (`label_studio_ml.api.init_app`).

    python -m tests.ml.keyword_backend PORT MODEL_DIR [BASIC_USER BASIC_PASS]

The model labels a text Positive when it contains "good"/"love"/"great", else Negative. Beside the
protocol, the test harness can read what the backend received (`GET /_calls`) and switch it into a
failure mode (`POST /_mode {"mode": ...}`): "ok", "slow" (sleeps 3 s in /predict), "slow_webhook" (sleeps
3 s before it answers /webhook, as an SDK backend that trains first), "garbage" (not JSON),
"wrong_count" (one result too few), "bad_region" (a from_name not in the config), "no_versions",
"one_result" (the first task's prediction only, whatever was sent: a backend without batch support, which
Label Studio then calls once per task).
"""

from __future__ import annotations

import json
import sys
import time

from flask import Response, jsonify, request
from label_studio_ml.api import _server, init_app
from label_studio_ml.model import LabelStudioMLBase

STATE = {"mode": "ok", "calls": []}
POSITIVE = ("good", "love", "great")


class KeywordSentiment(LabelStudioMLBase):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.from_name, info = next(iter(self.parsed_label_config.items()))
        self.to_name = info["to_name"][0]
        self.value = info["inputs"][0]["value"]

    def predict(self, tasks, **kwargs):
        mode = STATE["mode"]
        if mode == "slow":
            time.sleep(3)
        context = kwargs.get("context")
        predictions = []
        for task in tasks:
            text = str(task["data"].get(self.value, "")).lower()
            if context and context.get("result"):
                label = context["result"][0]["value"].get("labels", ["Positive"])[0]
                label = "Positive" if label == "Positive" else "Negative"
            else:
                label = "Positive" if any(word in text for word in POSITIVE) else "Negative"
            from_name = "not_in_config" if mode == "bad_region" else self.from_name
            predictions.append(
                {
                    "result": [
                        {
                            "from_name": from_name,
                            "to_name": self.to_name,
                            "type": "choices",
                            "value": {"choices": [label]},
                        }
                    ],
                    "score": 0.9 if label == "Positive" else 0.6,
                }
            )
        if mode == "one_result":
            return predictions[:1]
        return predictions[:-1] if mode == "wrong_count" else predictions


@_server.before_request
def _record():
    if request.path in ("/_calls", "/_mode"):
        return None
    body = request.get_json(silent=True) if request.data else None
    STATE["calls"].append(
        {
            "method": request.method,
            "path": request.path,
            "tasks": len(body.get("tasks", [])) if isinstance(body, dict) and "tasks" in body else None,
            "context": body.get("params", {}).get("context")
            if isinstance(body, dict) and isinstance(body.get("params"), dict)
            else None,
            "extra_params": body.get("extra_params") if isinstance(body, dict) else None,
            "authorization": request.headers.get("Authorization"),
            # What Label Studio's webhooks and START_TRAINING carry (the event's name and objects).
            "body": dict(body) if request.path == "/webhook" and isinstance(body, dict) else None,
        }
    )
    if STATE["mode"] == "slow_webhook" and request.path == "/webhook":
        time.sleep(3)  # as an SDK backend that trains before it answers
    if STATE["mode"] == "garbage" and request.path == "/predict":
        return Response("<html>surprise</html>", status=200, content_type="text/html")
    if STATE["mode"] == "no_versions" and request.path == "/versions":
        return Response("not found", status=404)
    return None


@_server.route("/_calls", methods=["GET", "DELETE"])
def _calls():
    if request.method == "DELETE":
        STATE["calls"].clear()
    return jsonify(STATE["calls"])


@_server.route("/_mode", methods=["POST"])
def _mode():
    STATE["mode"] = json.loads(request.data)["mode"]
    return jsonify(STATE["mode"])


@_server.route("/_redirect", methods=["GET", "POST"])
def _redirect():
    return Response("", status=302, headers={"Location": request.args["to"]})


def main(model_class: type[LabelStudioMLBase] = KeywordSentiment) -> None:
    port, model_dir = int(sys.argv[1]), sys.argv[2]
    kwargs = {"basic_auth_user": sys.argv[3], "basic_auth_pass": sys.argv[4]} if len(sys.argv) > 4 else {}
    app = init_app(model_class, model_dir=model_dir)
    if kwargs:

        @app.before_request
        def _auth():
            auth = request.authorization
            if request.path.startswith("/_"):
                return None
            if not auth or (auth.username, auth.password) != (
                kwargs["basic_auth_user"],
                kwargs["basic_auth_pass"],
            ):
                return Response("unauthorized", status=401)
            return None

    app.run(host="127.0.0.1", port=port, threaded=True)


if __name__ == "__main__":
    main()
