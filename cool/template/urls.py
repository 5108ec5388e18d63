"""URL escaping for make_url, as Python's urllib.parse does it (which Heat calls).

Written out because cool.template imports no network package (the import
rules); the results are byte for byte urllib's (tests/template/test_hot_functions.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_ALWAYS_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
# Schemes urlunsplit writes "//" for even without a host, as urllib's uses_netloc.
_USES_NETLOC = frozenset(
    [
        "", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms",
        "https", "shttp", "snews", "prospero", "rtsp", "rtspu", "rsync", "svn", "svn+ssh",
        "sftp", "nfs", "git", "git+ssh", "ws", "wss",
    ]
)  # fmt: skip


def quote(text: str, safe: str = "/") -> str:
    """Percent-encode the UTF-8 of ``text``, but for letters, digits, ``_.-~`` and ``safe``."""
    keep = _ALWAYS_SAFE | frozenset(safe.encode("ascii"))
    return "".join(
        chr(byte) if byte in keep else f"%{byte:02X}"
        for byte in text.encode("utf-8", "surrogatepass")
    )


def quote_plus(text: str, safe: str = "") -> str:
    return quote(text, safe + " ").replace(" ", "+") if " " in text else quote(text, safe)


def urlencode(query: Mapping[str, Any]) -> str:
    """``key=value&...``, each part quoted with ``+`` for spaces (non-text as ``str()``)."""
    return "&".join(
        f"{quote_plus(str(key))}={quote_plus(str(value))}" for key, value in query.items()
    )


def urlunsplit(scheme: str, netloc: str, path: str, query: str, fragment: str) -> str:
    url = path
    if netloc or (scheme and scheme in _USES_NETLOC and url[:2] != "//"):
        if url and url[:1] != "/":
            url = "/" + url
        url = "//" + netloc + url
    if scheme:
        url = scheme + ":" + url
    if query:
        url = url + "?" + query
    if fragment:
        url = url + "#" + fragment
    return url
