"""Which endpoint URLs the dispatcher may call: http(s), no credentials in the URL, and a
host that resolves only to public addresses (a webhook must never become a way to reach
the database, the metadata service or anything else inside our network), unless
FASHIONISTAS_WEBHOOKS_ALLOW_PRIVATE=1."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from core.errors import ValidationError
from core.models.limits import URL
from core.webhooks.config import allow_private


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def check_url(url: str, *, resolve: bool = True) -> str:
    """`url`, stripped, when the dispatcher may call it.

    Raises ValidationError (field `url`) for another scheme, credentials in the URL, a
    missing host, a host that does not resolve, or one that resolves to a private,
    loopback, link-local or otherwise non-public address (unless allowed by
    configuration).
    """
    url = (url or "").strip()
    if not url:
        raise ValidationError("URL is required", field="url")
    if len(url) > URL:
        raise ValidationError(f"URL must be at most {URL} characters", field="url")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise ValidationError("URL must start with https:// (or http://)", field="url")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "URL must not carry credentials; the signature authenticates the sender",
            field="url",
        )
    host = parts.hostname
    if not host:
        raise ValidationError("URL must name a host", field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError("URL has an invalid port", field="url") from None
    if not resolve or allow_private():
        return url
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValidationError(f"URL host {host} does not resolve", field="url") from None
    addresses = sorted({info[4][0] for info in infos})
    refused = [a for a in addresses if not _public(a)]
    if refused or not addresses:
        raise ValidationError(
            f"URL host {host} resolves to a private, loopback or link-local address"
            f" ({', '.join(refused)}); webhooks go to public addresses only",
            field="url",
        )
    return url
