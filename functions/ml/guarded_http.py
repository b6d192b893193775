"""HTTP for URLs users give us, with the SSRF guard (functions/domain/url_guard.py) on every hop.

The host is resolved here, every address it resolves to is checked, and the connection goes to the
checked address (the Host header and TLS name stay the host's), so DNS cannot answer one address to the
check and another to the connection. Redirects are followed by hand, each new URL checked the same
way. urllib3 (which boto3 brings along) does the HTTP; it retries failed connections, never a request
that reached the server.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
from dataclasses import dataclass
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import Retry, Timeout

from functions.domain.url_guard import AllowList, BlockedURL, Target, check_address, parse_target

USER_AGENT = "labelstack/ml"
MAX_REDIRECTS = 3
_REDIRECTS = (301, 302, 303, 307, 308)


class Unreachable(Exception):
    """No answer: the host refused, timed out or broke the connection."""


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
            data = raw.read(max_bytes + 1)
        finally:
            raw.release_conn()
    except (Urllib3Error, OSError) as exc:
        raise Unreachable(_reason(exc)) from None
    finally:
        pool.close()
    if len(data) > max_bytes:
        raise Unreachable(f"the answer is larger than {max_bytes} bytes")
    return Response(raw.status, data, url), None


def _reason(exc: Exception) -> str:
    """A short reason without urllib3's object reprs."""
    inner = getattr(exc, "reason", None) or exc
    text = str(inner)
    if "timed out" in text.lower() or isinstance(inner, (TimeoutError, socket.timeout)):
        return "timed out"
    if "refused" in text.lower():
        return "connection refused"
    return text.split(": ", 1)[-1][:300] if text else type(exc).__name__


__all__ = ["BlockedURL", "Response", "Unreachable", "basic_auth_header", "request", "resolve"]
