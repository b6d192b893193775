"""The SSRF guard's address and URL checks (pure), and the guarded client's resolution step."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from functions.domain.url_guard import (
    BlockedURL,
    check_address,
    is_blocked_address,
    parse_allow_list,
    parse_target,
)
from functions.ml import guarded_http

BLOCKED = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "2002:a9fe:a9fe::1",
    "64:ff9b::a9fe:a9fe",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", BLOCKED)
def test_private_and_special_ranges_are_blocked(address):
    assert is_blocked_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert not is_blocked_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "http and https"),
        ("example.com", "scheme"),
        ("http://user:pw@example.com/", "Credentials"),
        ("http:///x", "no host"),
        ("http://example.com:99999/", "valid URL"),
    ],
)
def test_url_form(url, reason):
    with pytest.raises(BlockedURL, match=reason):
        parse_target(url)


def test_target_keeps_path_query_and_default_ports():
    target = parse_target("HTTPS://Example.COM./prefix?a=1")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "example.com",
        443,
        "/prefix?a=1",
    )
    assert parse_target("http://[::1]:9090").literal_address == ipaddress.ip_address("::1")


def test_allow_list_opens_hosts_and_ranges_only():
    allow = parse_allow_list("127.0.0.1, ml.internal, 10.20.0.0/16")
    local = parse_target("http://127.0.0.1:9090")
    check_address(local, ipaddress.ip_address("127.0.0.1"), allow)
    check_address(parse_target("http://ml.internal"), ipaddress.ip_address("10.99.0.1"), allow)
    check_address(parse_target("http://x.example"), ipaddress.ip_address("10.20.3.4"), allow)
    with pytest.raises(BlockedURL, match=r"10\.21\.0\.1"):
        check_address(parse_target("http://x.example"), ipaddress.ip_address("10.21.0.1"), allow)
    with pytest.raises(ValueError, match="CIDR"):
        parse_allow_list("10.0.0.0/99")


def test_every_resolved_address_is_checked_and_the_checked_one_is_used(monkeypatch):
    answers = {"mixed.example": ["93.184.216.34", "169.254.169.254"], "public.example": ["93.184.216.34"]}

    def fake_getaddrinfo(host, port, type=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    allow = parse_allow_list("")
    with pytest.raises(BlockedURL, match=r"169\.254\.169\.254"):
        guarded_http.resolve(parse_target("http://mixed.example/"), allow)
    assert guarded_http.resolve(parse_target("http://public.example/"), allow) == "93.184.216.34"
