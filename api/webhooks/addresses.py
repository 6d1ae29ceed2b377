"""Where webhooks may be sent: http(s) URLs whose host resolves only to public addresses, so an
integration can't make the HelpDesk post into its own network (loopback, private, link-local,
reserved). WEBHOOK_ALLOW_PRIVATE_URLS lifts that (tests, an on-premises receiver)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


def url_refusal(url: str) -> str | None:
    """Why `url` may not receive webhooks now, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return "its host does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return "its host resolves to a non-public address"
    return None
