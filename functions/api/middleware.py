"""ASGI middleware: Label Studio's slash-agnostic paths, a bound on request bodies, a check of JSON
bodies, one answer for unexpected errors, security headers."""

from __future__ import annotations

import json
from email.message import Message
from urllib.parse import urlsplit

from functions.api.bodies import PARSED_JSON
from functions.api.errors import error_body, error_response, unexpected_response
from functions.domain import json_limits
from functions.domain.errors import ValidationFailed


class SlashAgnosticPaths:
    """Serve `/api/x/` as `/api/x`, without a redirect.

    Label Studio answers both forms; the legacy SDK client omits the slash and SDK 2.x adds it, and a POST
    behind a redirect is fragile. Routes are declared without the slash.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope, path=path.rstrip("/") or "/")
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse bodies over `max_bytes` with 413, by Content-Length or by counting a streamed body."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send):
        body = json.dumps(error_body(413, f"Request body is larger than {self.max_bytes} bytes.")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        seen = 0
        too_large = False

        async def counting_receive():
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    raise _TooLarge()
            return message

        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)
        except Exception:
            if too_large and not started:
                await self._refuse(send)
            else:
                raise


class _TooLarge(Exception):
    pass


def _is_json(content_type: bytes | None) -> bool:
    """FastAPI's rule for a body it parses as JSON: no Content-Type, or application/json or …+json."""
    if not content_type:
        return True
    message = Message()
    message["content-type"] = content_type.decode("latin-1")
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class JsonBodyCheck:
    """Parse a JSON request body once, before any route, and answer 400 if it is not JSON labelstack can
    store (NaN or Infinity, a number out of DynamoDB's range, a lone surrogate, nesting deeper than
    json_limits.MAX_DEPTH; see functions/domain/json_limits.py).

    Every route is covered, whether it reads the body with `bodies.json_body` (which takes the value
    parsed here from the scope) or has FastAPI parse it into a model (FastAPI's own json.loads takes
    NaN and recurses). The body is then handed on unchanged. Sits inside BodyLimit, so it never holds
    more than the bound.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not _is_json(dict(scope.get("headers") or []).get(b"content-type")):
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let the app see it
                return await self.app(scope, _replay([], message, receive), send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        if raw.strip():
            try:
                scope = {**scope, PARSED_JSON: json_limits.parse(raw)}
            except ValidationFailed as exc:
                return await error_response(400, exc.detail, exc.errors)(scope, receive, send)
        body = {"type": "http.request", "body": raw, "more_body": False}
        await self.app(scope, _replay([body], None, receive), send)


def _replay(messages: list[dict], last: dict | None, receive):
    """A `receive` that hands out `messages` (then `last`, if any), then waits on the real one."""
    pending = [*messages, *([last] if last else [])]

    async def replayed():
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class ErrorBoundary:
    """Turn any exception the app lets out into a Label Studio-shaped answer (errors.unexpected_response)
    inside the app.

    Starlette's ServerErrorMiddleware sends its 500 and then re-raises, so the server drops the
    connection and a client's next request on it fails. Here nothing is re-raised once an answer is
    sent. An exception after the response has started can no longer change it: if the body was cut
    short it is re-raised, so the server closes the connection and the client sees the truncation; if
    the response was complete (a background task failed), it is only logged.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = finished = False

        async def tracking_send(message):
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            response = unexpected_response(exc, scope.get("method", ""), scope.get("path", ""))
            if not started:
                await response(scope, receive, send)
            elif not finished:
                raise


# The web UI's Content-Security-Policy (web/index.html repeats it, but for frame-ancestors, in a <meta> for
# hosts that serve the files without our headers). Scripts only from our origin, so an injected <script> or
# onerror= never runs. 'unsafe-inline' for styles only: the Label Studio Frontend (React, antd) sets inline
# <style> elements and style attributes at run time; it needs no eval.
#
# Images and media come from our own origin (`/data/upload/` and the sqlite engine's signed `/files/`
# URLs, the presign redirects) and from https URLs: presigned URLs of the files bucket and of the S3 source
# storages a manager connects at run time (any bucket, region or S3-compatible endpoint), and the public
# https URLs task data may name, as in Label Studio. No plain http, but from the origins a deployment
# names. Media is also fetched from there (connect-src): the Label Studio Frontend's <Audio> downloads its
# file to draw the waveform. That adds no way out an <img> does not already have.
def content_security_policy(media_origins: tuple[str, ...] = ()) -> str:
    """The policy, with images and media also allowed from `media_origins` (each `scheme://host:port`):
    the local stack's AWS emulator, whose presigned URLs are plain http on 127.0.0.1."""
    extra = "".join(f" {origin}" for origin in media_origins)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob: https:{extra}; media-src 'self' blob: https:{extra}; "
        f"font-src 'self' data:; connect-src 'self' https:{extra}; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an http(s) URL: a CSP source naming that origin and no other."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


# What AWS serves (CloudFront's response headers policy, infra/aws/web.py) and web/index.html holds.
CONTENT_SECURITY_POLICY = content_security_policy()
OTHER_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Add the security headers to every response, API and static files alike.

    Paths under `exempt_prefixes` (the Swagger page, which loads its own scripts) get all but the CSP.
    """

    def __init__(self, app, policy: str = CONTENT_SECURITY_POLICY, exempt_prefixes: tuple[str, ...] = ()):
        self.app = app
        self.exempt_prefixes = exempt_prefixes
        self.headers = ((b"content-security-policy", policy.encode()), *OTHER_SECURITY_HEADERS)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        exempt = scope["path"].startswith(self.exempt_prefixes) if self.exempt_prefixes else False
        added = [h for h in self.headers if not (exempt and h[0] == b"content-security-policy")]

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in added if h[0] not in present]
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, with_headers)
