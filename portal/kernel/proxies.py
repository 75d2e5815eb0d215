"""Forwarded headers are believed only from the proxies the operator names.

`PORTAL_TRUSTED_PROXIES` is a comma list of addresses or networks (`127.0.0.1,10.0.0.0/8`);
empty means none. When the direct peer is one of them, werkzeug's ProxyFix takes the client
address from the last `X-Forwarded-For` entry and the scheme from `X-Forwarded-Proto`
(one proxy hop: the shipped nginx). From any other peer the headers are ignored, so a
client cannot choose the address that the audit trail records or the sign-in limiter
counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | Iterable[str] | None) -> list[Network]:
    """`"127.0.0.1, 10.0.0.0/8"` → networks; a wrong entry is a configuration error."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in items:
        item = item.strip()
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as e:
                raise ValueError(f"PORTAL_TRUSTED_PROXIES: {item!r} is not an address") from e
    return networks


class TrustedProxyFix:
    """WSGI middleware: ProxyFix for requests whose peer is trusted, the app itself otherwise."""

    def __init__(self, app: Callable, trusted: str | Iterable[str] | None) -> None:
        self.app = app
        self.networks = parse_networks(trusted)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def trusts(self, peer: str | None) -> bool:
        if not peer or not self.networks:
            return False
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        if self.trusts(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
