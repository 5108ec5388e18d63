"""Sample values that satisfy parameter declarations.

For trying a whole compile without choosing values (``cool validate
--sample-values``) and for checking third-party templates in bulk. Each
candidate is checked against the parameter's real constraints, so a sample
is only ever offered when it passes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from cool.model import ParameterSpec, ParameterType
from cool.template.parameters import build_constraint, coerce, violation

_STRINGS = (
    "sample",
    "Sample1",
    "sample-1",
    "a",
    "10.0.0.0/24",
    "10.0.0.10",
    "fa:16:3e:00:00:01",
    "sample.example.com",
    "admin@example.com",
    "2026-01-01T00:00:00Z",
    "UTC",
    "1",
    "true",
)
_BY_CUSTOM = {
    "net_cidr": "10.0.0.0/24",
    "cidr": "10.0.0.0/24",
    "ip_addr": "10.0.0.10",
    "ip_or_cidr": "10.0.0.10",
    "mac_addr": "fa:16:3e:00:00:01",
    "iso_8601": "2026-01-01T00:00:00Z",
    "timezone": "UTC",
    "dns_domain": "example.com.",
    "dns_name": "sample.example.com.",
    "rel_dns_name": "sample",
    "cron_expression": "0 0 * * *",
}


# What a parameter's name says it holds, by a word of it (``private_net_cidr``,
# ``dns_nameservers``, ``GatewayIP``): the value a property its value flows into checks
# for (a subnet's cidr, a port's ip_address) is then likely to pass as well. The first
# kind whose word the name holds wins (a ``subnet_gateway_ip`` is a gateway); a gateway
# and a pool's ends lie apart, as a subnet wants them.
_BY_WORDS = (
    (frozenset({"email"}), "admin@example.com"),
    (frozenset({"mac"}), "fa:16:3e:00:00:01"),
    (frozenset({"gateway", "gw"}), "10.0.0.1"),
    (frozenset({"cidr"}), "10.0.0.0/24"),
    (frozenset({"dns", "nameserver", "nameservers"}), "8.8.8.8"),
    (frozenset({"ip", "ips", "addr", "address", "ipaddr", "ipaddress"}), "10.0.0.10"),
    (frozenset({"url", "uri"}), "http://example.com/"),
)
_POOL_ENDS = {"start": "10.0.0.100", "end": "10.0.0.200"}
_WORDS = re.compile(r"[a-z0-9]+")


def _hinted(name: str) -> str | None:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
    words = _WORDS.findall(spaced)
    if "pool" in words and words[-1] in _POOL_ENDS:
        return _POOL_ENDS[words[-1]]
    present = set(words)
    if present & {"domain", "name", "zone"}:
        present -= {"dns"}  # a DNS name or domain is no server's address
    return next((value for kind, value in _BY_WORDS if kind & present), None)


def sample_values(parameters: Iterable[ParameterSpec]) -> dict[str, Any]:
    """A value for every parameter without a default (None where none fits)."""
    return {p.name: sample_value(p) for p in parameters if not p.has_default}


def sample_value(spec: ParameterSpec) -> Any:
    checks = []
    arguments: dict[str, Any] = {}
    for entry in spec.constraints:
        for key, arg in entry.items():
            if key != "description":
                checks.append(build_constraint(key, arg, spec.type, ""))
                arguments.setdefault(key, arg)
    for candidate in _candidates(spec.type, arguments, _hinted(spec.name)):
        try:
            value = coerce(spec.type, candidate)
        except ValueError:
            continue
        if violation(spec, tuple(checks), value) is None:
            return value
    return None


def _candidates(
    kind: ParameterType, arguments: dict[str, Any], hint: str | None = None
) -> Iterable[Any]:
    allowed = arguments.get("allowed_values")
    if allowed:
        yield from (
            [[v] for v in allowed] if kind is ParameterType.COMMA_DELIMITED_LIST else allowed
        )
    if kind is ParameterType.NUMBER:
        bounds = arguments.get("range", {})
        yield from (bounds.get("min"), bounds.get("max"), 1, 0)
        modulo = arguments.get("modulo")
        if isinstance(modulo, dict) and modulo.get("step"):
            step, offset = int(modulo["step"]), int(modulo.get("offset") or 0)
            base = int(bounds.get("min") or 0)
            first = base - base % step + offset  # the first such number at or past min
            yield from (first, first + step)
        return
    if kind is ParameterType.BOOLEAN:
        yield from (True, False)
        return
    if kind is ParameterType.JSON:
        yield from ({}, [])
        return
    length = arguments.get("length", {})
    low = int(length.get("min", 0) or 0)
    first = _BY_CUSTOM.get(arguments.get("custom_constraint", ""), hint or "sample")
    strings = [first, *_STRINGS]
    if low:
        strings += ["a" * low, "A" + "a" * max(low - 2, 0) + "1", "1" * low]
    if kind is ParameterType.COMMA_DELIMITED_LIST:
        count = max(low, 1)
        yield from ([s] * count for s in strings)
        return
    yield from strings
