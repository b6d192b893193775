"""HTTP for URLs users give us, with the SSRF guard (functions/domain/url_guard.py) on every hop.

The host is resolved here, every address it resolves to is checked, and the connection goes to the
checked address (the Host header and TLS name stay the host's), so DNS cannot answer one address to the
check and another to the connection. Redirects are followed by hand, each new URL checked the same
way. urllib3 (which boto3 brings along) does the HTTP; it retries failed connections, never a request
that reached the server.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import IncompleteRead, ReadTimeoutError
from urllib3.util import Retry, Timeout

from functions.domain.url_guard import AllowList, BlockedURL, Target, check_address, parse_target

USER_AGENT = "labelstack/ml"
MAX_REDIRECTS = 3
_CHUNK = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)


class Unreachable(Exception):
    """No answer: the host refused, timed out or broke the connection."""


class NoAnswer(Unreachable):
    """The request was sent, and the server did not answer it in time (it may still be working on it)."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    url: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self):
        return json.loads(self.body)


def resolve(target: Target, allow: AllowList) -> str:
    """The address to connect to: the host's, after every address it resolves to passed the check."""
    literal = target.literal_address
    if literal is not None:
        check_address(target, literal, allow)
        return str(literal)
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Unreachable(f"cannot resolve {target.host}: {exc.strerror or exc}") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        check_address(target, address, allow)  # one private answer is enough to refuse
        addresses.append(address)
    if not addresses:
        raise Unreachable(f"cannot resolve {target.host}")
    return str(addresses[0])


def basic_auth_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(
    method: str,
    url: str,
    *,
    allow: AllowList,
    timeout: float,
    connect_timeout: float,
    retries: int,
    max_bytes: int,
    json_body=None,
    headers: dict | None = None,
    body: bytes | None = None,
) -> Response:
    """One request with the guard; raise BlockedURL, Unreachable, or return the (bounded) answer.

    `timeout` bounds the wait for the answer and the reading of it together (a backend trickling its
    answer a byte at a time is given up on too), after `connect_timeout` per connection attempt.
    `body` sends these exact bytes as JSON (a webhook signs them); `json_body` serializes a value."""
    if body is None and json_body is not None:
        body = json.dumps(json_body, ensure_ascii=False).encode()
    sent_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    if body is not None:
        sent_headers["Content-Type"] = "application/json"
    first_host = parse_target(url).host
    for _ in range(MAX_REDIRECTS + 1):
        target = parse_target(url)
        if target.host != first_host:
            sent_headers.pop("Authorization", None)  # credentials are for the host they were given for
        response, location = _once(
            method,
            target,
            url,
            body,
            sent_headers,
            allow=allow,
            timeout=timeout,
            connect_timeout=connect_timeout,
            retries=retries,
            max_bytes=max_bytes,
        )
        if location is None:
            return response
        url = urljoin(url, location)
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method, body = "GET", None
            sent_headers.pop("Content-Type", None)
    raise Unreachable(f"more than {MAX_REDIRECTS} redirects")


def _once(
    method: str,
    target: Target,
    url: str,
    body: bytes | None,
    headers: dict,
    *,
    allow: AllowList,
    timeout: float,
    connect_timeout: float,
    retries: int,
    max_bytes: int,
) -> tuple[Response, str | None]:
    address = resolve(target, allow)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    pool_timeout = Timeout(connect=connect_timeout, read=timeout)
    started = time.monotonic()
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=pool_timeout,
            maxsize=1,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=pool_timeout, maxsize=1)
    try:
        raw = pool.urlopen(
            method,
            target.path,
            body=body,
            headers={**headers, "Host": host_header},
            redirect=False,
            preload_content=False,
            assert_same_host=False,
            retries=Retry(
                total=retries,
                connect=retries,
                read=0,
                status=0,
                other=0,
                redirect=0,
                allowed_methods=None,
                raise_on_redirect=False,
            ),
        )
        try:
            if raw.status in _REDIRECTS and raw.headers.get("Location"):
                return Response(raw.status, b"", url), raw.headers["Location"]
            data = _read_body(raw, max_bytes, started + timeout, timeout)
        finally:
            raw.release_conn()
    except NoAnswer:
        raise
    except (Urllib3Error, OSError) as exc:
        if any(isinstance(c, ReadTimeoutError) for c in _causes(exc)):
            raise NoAnswer(_reason(exc, timeout)) from None
        raise Unreachable(_reason(exc, timeout)) from None
    finally:
        pool.close()
    return Response(raw.status, data, url), None


def _read_body(raw, max_bytes: int, deadline: float, timeout: float) -> bytes:
    """The answer's body, at most `max_bytes`, read before `deadline` (time.monotonic)."""
    chunks, size = [], 0
    while chunk := raw.read1(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise Unreachable(f"the answer is larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise NoAnswer(f"timed out after {timeout:g} s while reading the answer")
        chunks.append(chunk)
    return b"".join(chunks)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and those inside it (urllib3 wraps the socket's error in one or two layers)."""
    found: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(found) < 10:
        current = pending.pop(0)
        if current in found:
            continue
        found.append(current)
        inner = [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
        pending.extend(e for e in inner if isinstance(e, BaseException))
    return found


def _reason(exc: BaseException, timeout: float) -> str:
    """A short reason a person can act on, without urllib3's object reprs."""
    causes = _causes(exc)
    for cause in causes:
        if isinstance(cause, (IncompleteRead, http.client.IncompleteRead)):
            # Both kinds of IncompleteRead: what arrived (a count or the bytes) and how much was missing.
            got = cause.partial if isinstance(cause.partial, int) else len(cause.partial)
            missing = cause.expected if isinstance(cause.expected, int) else 0
            return f"the answer was cut off after {got} of the {got + missing} bytes announced"
    texts = " ".join(str(c) for c in causes).lower()
    if any(isinstance(c, (TimeoutError, socket.timeout)) for c in causes) or "timed out" in texts:
        return f"timed out after {timeout:g} s"
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in texts:
        return "connection refused"
    if any(isinstance(c, ConnectionResetError) for c in causes):
        return "connection reset by the backend before it answered"
    if any(isinstance(c, http.client.RemoteDisconnected) for c in causes):
        return "the backend closed the connection without answering"
    text = str(exc)
    return text.split(": ", 1)[-1][:300] if text else type(exc).__name__


__all__ = ["BlockedURL", "NoAnswer", "Response", "Unreachable", "basic_auth_header", "request", "resolve"]
