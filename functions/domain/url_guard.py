"""Which URLs the server may call on a user's behalf (ML backends now; webhooks and imports later).

A user-supplied URL must not reach the server's own network: the instance metadata service
(169.254.169.254), VPC-internal services, loopback. So a URL is refused unless its scheme is http(s)
and every address its host resolves to is public — private, loopback, link-local, multicast, reserved,
unspecified and shared ranges are blocked, for IPv4, IPv6 and IPv4 written inside IPv6 (mapped, 6to4,
NAT64 forms). An explicit allow-list (`LABELSTACK_ALLOWED_HOSTS`: host names, addresses or CIDR ranges)
opens chosen hosts, as the local stack does for 127.0.0.1.

Pure: resolution is done by the caller (functions/ml/guarded_http.py), which connects to the very
address checked here, so a DNS answer cannot change between the check and the connection.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
SCHEMES = ("http", "https")


class BlockedURL(ValueError):
    """The URL may not be called; the message says why, without echoing credentials."""


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)


def parse_allow_list(raw: str) -> AllowList:
    """`"127.0.0.1, localhost, 10.0.0.0/8"` -> an AllowList. A bad CIDR is a configuration error."""
    hosts: set[str] = set()
    networks = []
    for item in (part.strip() for part in raw.replace(";", ",").split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            if "/" in item:
                raise ValueError(f"LABELSTACK_ALLOWED_HOSTS: {item!r} is not a valid CIDR range") from None
            hosts.add(item.lower().rstrip("."))
    return AllowList(frozenset(hosts), tuple(networks))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_blocked_address(address: IPAddress) -> bool:
    """True for any address that is not plainly public."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:  # these forms reach the IPv4 address they carry
            return is_blocked_address(inner)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


@dataclass(frozen=True)
class Target:
    """A checked URL, split into what a connection needs."""

    scheme: str
    host: str  # lower-case, without brackets
    port: int
    path: str  # path + query, at least "/"

    @property
    def literal_address(self) -> IPAddress | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_target(url: str) -> Target:
    """Check the URL's form (scheme, host, port, no credentials); raise BlockedURL otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise BlockedURL("Enter a valid URL.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise BlockedURL("Enter a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise BlockedURL(f"Only http and https URLs are allowed, not {scheme or 'a URL without a scheme'}.")
    if parts.username is not None or parts.password is not None:
        raise BlockedURL("Credentials in the URL are not allowed; use basic auth fields instead.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise BlockedURL("The URL has no host.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def check_address(target: Target, address: IPAddress, allow: AllowList) -> None:
    """Raise BlockedURL if `address` (what `target.host` resolved to) is off limits."""
    if allow.allows_host(target.host) or allow.allows_address(address):
        return
    if is_blocked_address(address):
        shown = target.host if target.literal_address is None else "it"
        raise BlockedURL(
            f"The URL's host resolves to a private or reserved address ({address}); "
            f"{shown} is not in LABELSTACK_ALLOWED_HOSTS."
        )
