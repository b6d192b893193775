"""A real ML backend process for the tests that fails in one named way per path.

    python -m tests.ml.fault_backend PORT [IGNORED_MODEL_DIR]

Register `http://127.0.0.1:PORT/<fault>` as an `http` backend (Label Studio joins `/health`, `/setup`,
`/predict` onto the URL's path), or point the SageMaker runtime URL here and register the endpoint named
`<fault>` (InvokeEndpoint posts to `/endpoints/<fault>/invocations`). `/health` and `/setup` always
answer well, so the backend connects; `/predict` (and the invocation) fails as its fault says, until
`POST /_heal {"fault": name}` makes it answer correctly (and `{"fault": name, "healed": false}` breaks it
again). The right answer labels each task of the test config (`<Choices name="sentiment"
toName="text">` with Positive/Negative/Neutral) Positive with score 0.5. `GET /_calls` counts the
predict calls per fault.

Faults: FAULTS below. Answers are written byte by byte (a reset, a short body), so this is a plain
socket server rather than a framework.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JUNK_BYTES = 5 * 1024 * 1024
DEEP_LEVELS = 100_000  # far past Python's recursion limit
DEEP_VALUE_LEVELS = 200  # parses, but no label config has values this deep

FAULTS = (
    "hang",  # never answers
    "reset",  # reads the request, then resets the connection
    "html",  # 200 with an HTML page
    "http500",  # a 500 with an error body
    "wrong-shape",  # JSON, but a list of predictions instead of {"results": [...]}
    "truncated",  # a JSON answer cut off before its declared length
    "unknown-from-name",  # a region from a control the config does not have
    "unknown-to-name",  # a region onto an object tag the config does not have
    "unknown-label",  # a choice the config does not offer
    "wrong-type",  # a rectanglelabels region from a <Choices>
    "nan-score",  # "score": NaN
    "infinite-score",  # "score": Infinity
    "huge-score",  # "score": 1e300
    "junk",  # 5 MB of random bytes labelled JSON
    "deep-nesting",  # JSON nested 100,000 levels
    "deep-value",  # a region whose value nests 200 levels
)

STATE: dict = {"healed": set(), "calls": {}}
_LOCK = threading.Lock()


def region(**changes) -> dict:
    return {
        "from_name": "sentiment",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["Positive"]},
        **changes,
    }


def answer_for(fault: str, tasks: list) -> bytes | None:
    """The JSON body of the fault's answer (None for faults that are not a JSON answer)."""

    def results(one_region=None, score=0.5):
        return [{"result": [one_region or region()], "score": score} for _ in tasks]

    if fault in STATE["healed"] or fault == "ok":
        body = {"results": results(), "model_version": "fault-model-1"}
    elif fault == "wrong-shape":
        return json.dumps(results()).encode()
    elif fault == "unknown-from-name":
        body = {"results": results(region(from_name="not_in_config"))}
    elif fault == "unknown-to-name":
        body = {"results": results(region(to_name="image"))}
    elif fault == "unknown-label":
        body = {"results": results(region(value={"choices": ["Maybe"]}))}
    elif fault == "wrong-type":
        body = {
            "results": results(
                region(
                    type="rectanglelabels",
                    value={"x": 1, "y": 1, "width": 2, "height": 2, "rectanglelabels": ["Positive"]},
                )
            )
        }
    elif fault == "nan-score":
        return json.dumps({"results": results(score=float("nan"))}).encode()  # Python writes NaN
    elif fault == "infinite-score":
        return json.dumps({"results": results(score=float("inf"))}).encode()  # and Infinity
    elif fault == "huge-score":
        body = {"results": results(score=1e300)}
    elif fault == "deep-nesting":
        return b'{"results": ' + b"[" * DEEP_LEVELS + b"]" * DEEP_LEVELS + b"}"
    elif fault == "deep-value":
        value: dict = {"choices": ["Positive"]}
        for _ in range(DEEP_VALUE_LEVELS):
            value = {"choices": ["Positive"], "nested": value}
        body = {"results": results(region(value=value))}
    else:
        return None
    return json.dumps(body).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def do_GET(self):
        if self.path == "/_calls":
            with _LOCK:
                self._send(200, json.dumps(STATE["calls"]).encode())
            return
        fault, _, rest = self.path.strip("/").partition("/")
        if rest in ("health", ""):
            self._send(200, json.dumps({"status": "UP", "model_class": f"Fault:{fault}"}).encode())
            return
        self._send(404, b'{"detail": "not found"}')

    def do_POST(self):
        body = self._body()
        parts = self.path.strip("/").split("/")
        if parts == ["_heal"]:
            with _LOCK:
                (STATE["healed"].add if body.get("healed", True) else STATE["healed"].discard)(body["fault"])
            self._send(200, b"{}")
            return
        if len(parts) == 2 and parts[1] == "setup":
            self._send(200, json.dumps({"model_version": "fault-model-1"}).encode())
            return
        if len(parts) == 2 and parts[1] == "predict":
            fault = parts[0]
        elif len(parts) == 3 and parts[0] == "endpoints" and parts[2] == "invocations":
            fault = parts[1]
        else:
            self._send(404, b'{"detail": "not found"}')
            return
        with _LOCK:
            STATE["calls"][fault] = STATE["calls"].get(fault, 0) + 1
        self._predict(fault, (body or {}).get("tasks") or [])

    def _predict(self, fault: str, tasks: list) -> None:
        healed = fault in STATE["healed"]
        if fault == "hang" and not healed:
            time.sleep(3600)
            return
        if fault == "reset" and not healed:
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if fault == "html" and not healed:
            self._send(200, b"<html><body><h1>It works!</h1></body></html>", "text/html")
            return
        if fault == "http500" and not healed:
            self._send(500, b'{"error": "CUDA out of memory"}')
            return
        if fault == "truncated" and not healed:
            whole = json.dumps({"results": [{"result": [region()], "score": 0.5} for _ in tasks]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(whole)))
            self.end_headers()
            self.wfile.write(whole[: len(whole) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "junk" and not healed:
            self._send(200, _junk())
            return
        body = answer_for(fault, tasks)
        if body is None:
            self._send(404, b'{"detail": "no such fault"}')
            return
        self._send(200, body)


def _junk() -> bytes:
    # Deterministic bytes that are neither JSON nor UTF-8.
    seed = bytes(range(256))
    return (seed * (JUNK_BYTES // len(seed) + 1))[:JUNK_BYTES]


def main() -> None:
    port = int(sys.argv[1])
    ThreadingHTTPServer.request_queue_size = 128  # many callers at once (the default backlog is 5)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
