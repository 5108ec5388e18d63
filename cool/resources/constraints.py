"""Heat's custom constraints, by name: which cool checks itself, and how.

Every name Heat registers (its setup.cfg ``heat.constraints`` entry points) is
accepted, so a template that names one validates as it does in Heat. Those
Heat checks without a cloud (heat/engine/constraint/common_constraints.py) are
checked here the same way, with the same libraries (netaddr, oslo.utils,
croniter); those that look a name up in a cloud are checked when the build
looks the name up, where a cool type's property carries one, and not at all
otherwise.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping
from enum import StrEnum

import croniter
import netaddr
from oslo_utils import timeutils


class Checked(StrEnum):
    """When cool checks a value against the constraint."""

    OFFLINE = "offline"  # at validation, as Heat's check does
    RUN_TIME = "run time"  # when the build looks the name up (a cool type's property)
    NOT_CHECKED = "not checked"  # accepted as Heat names it; nothing in cool looks it up


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else f"{value[:40]}...{value[-10:]}")


_SPACE = re.compile(r"\s")


def _ip_address(value: str) -> str | None:
    """neutron-lib's validate_ip_address, which Heat's ip_addr uses: a whole dotted
    quad written canonically (no leading zeros), or an IPv6 address."""
    try:
        if _SPACE.search(value):
            raise ValueError(value)
        try:
            address = netaddr.IPAddress(value, flags=netaddr.core.ZEROFILL)
        except ValueError:
            address = netaddr.IPAddress(value)
    except Exception:  # netaddr raises several kinds; Heat catches them all
        return f"{_shown(value)} is not a valid IP address"
    if ":" not in value and value.count(".") != 3:
        return f"{_shown(value)} is not a valid IP address"
    if address.version == 4 and str(address) != value:
        return f"{_shown(value)} is not a valid IP address ({str(address)!r} is)"
    return None


def _subnet(value: str) -> bool:
    """neutron-lib's validate_subnet: a network with a prefix; host bits are allowed, an
    IPv4 one is written canonically."""
    try:
        if _SPACE.search(value):
            return False
        network = netaddr.IPNetwork(value)
    except Exception:
        return False
    return "/" in value and (network.version != 4 or str(network) == value)


def _net_cidr(value: str) -> str | None:
    """Heat's CIDRConstraint: netaddr reads it (abbreviations expanded), then validate_subnet."""
    try:
        netaddr.IPNetwork(netaddr.cidr_abbrev_to_verbose(value))
    except Exception:
        return f"{_shown(value)} is not a valid network CIDR (like 10.0.0.0/24)"
    if not _subnet(value):
        return f"{_shown(value)} is not a valid network CIDR (like 10.0.0.0/24)"
    return None


def _ip_or_cidr(value: str) -> str | None:
    """Heat's IPCIDRConstraint: a CIDR if it has a '/', else an address."""
    good = _subnet(value) if "/" in value else _ip_address(value) is None
    return None if good else f"{_shown(value)} is not a valid IP address or CIDR"


def _mac_addr(value: str) -> str | None:
    """Heat's MACConstraint: whatever netaddr takes for a MAC address."""
    try:
        good = bool(netaddr.valid_mac(value))
    except Exception:
        good = False
    return None if good else f"{_shown(value)} is not a valid MAC address"


_DNS_LABEL = re.compile(r"[a-z0-9-]{1,63}")
_FQDN_MAX = 255


def _dns_format(value: str) -> str | None:
    """Heat's netutils.validate_dns_format: why ``value`` is not a DNS name, or None."""
    if not value:
        return None
    trimmed = value[:-1] if value.endswith(".") else value
    if len(trimmed) > _FQDN_MAX:
        return f"it exceeds the {_FQDN_MAX} character FQDN limit"
    labels = trimmed.split(".")
    for label in labels:
        if not label:
            return "Encountered an empty component."
        if label.startswith("-") or label.endswith("-"):
            return f"Name {_shown(label)} must not start or end with a hyphen."
        if not _DNS_LABEL.fullmatch(label):
            return (
                f"Name {_shown(label)} must be 1-63 characters long, each of which can only "
                "be alphanumeric or a hyphen."
            )
    if value.endswith(".") and len(labels) > 1 and labels[-1].isdigit():
        return f"TLD {_shown(labels[-1])} must not be all numeric."
    return None


def _dns_name(value: str) -> str | None:
    reason = _dns_format(value)
    return None if reason is None else f"{_shown(value)} not in valid format. Reason: {reason}"


def _dns_domain(value: str) -> str | None:
    if not value:
        return None
    if (message := _dns_name(value)) is not None:
        return message
    return None if value.endswith(".") else f"{_shown(value)} must end with '.'."


def _rel_dns_name(value: str) -> str | None:
    if not value:
        return None
    if value.endswith("."):
        return f"{_shown(value)} is a FQDN. It should be a relative domain name."
    if len(value) > _FQDN_MAX - 3:
        return (
            f"{_shown(value)} has {len(value)} characters: adding a domain name would exceed "
            f"the maximum length of a FQDN ({_FQDN_MAX})"
        )
    return _dns_name(value)


def _iso_8601(value: str) -> str | None:
    try:
        timeutils.parse_isotime(value)
    except Exception:
        return f"{_shown(value)} is not an ISO 8601 date and time"
    return None


def _expiration(value: str) -> str | None:
    """Heat's ExpirationConstraint: an ISO 8601 time still in the future."""
    if not value:
        return None
    try:
        expiration = timeutils.normalize_time(timeutils.parse_isotime(value.strip()))
    except Exception as exc:
        return f"Expiration {_shown(value)} is invalid: {exc}"
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    if expiration > now:
        return None
    return f"Expiration {_shown(value)} is invalid: Expiration time is out of date."


def _cron_expression(value: str) -> str | None:
    if not value:
        return None
    try:
        croniter.croniter(value)
    except Exception as exc:
        return f"Invalid CRON expression: {exc}"
    return None


def _json_string(value: str) -> str | None:
    if not value:
        return None
    try:
        json.loads(value)
    except (ValueError, RecursionError) as exc:
        return f"JSON string {_shown(value)} is invalid: {exc}"
    return None


# Given a string value: why it breaks the constraint, or None.
OFFLINE: Mapping[str, Callable[[str], str | None]] = {
    "ip_addr": _ip_address,
    "net_cidr": _net_cidr,
    "ip_or_cidr": _ip_or_cidr,
    "mac_addr": _mac_addr,
    "dns_name": _dns_name,
    "dns_domain": _dns_domain,
    "rel_dns_name": _rel_dns_name,
    "iso_8601": _iso_8601,
    "expiration": _expiration,
    "cron_expression": _cron_expression,
    "json_string": _json_string,
}

# The names cool's own resource types carry on a property the provider looks up.
_RUN_TIME = (
    "nova.flavor nova.keypair glance.image cinder.volume cinder.snapshot cinder.backup "
    "cinder.vtype keystone.user neutron.network neutron.subnet neutron.port neutron.router "
    "neutron.security_group neutron.qos_policy neutron.subnetpool neutron.segment "
    "octavia.loadbalancer octavia.listener octavia.pool octavia.flavor nova.server nova.host "
    "keystone.domain keystone.group keystone.project keystone.region keystone.role "
    "keystone.service"
)

# The rest of Heat's setup.cfg: timezone needs the host's time-zone database (validation
# reads no files), test_constr and nova.network are Heat's test delay, and the others
# look a name up in a service cool does not talk to.
_NOT_CHECKED = (
    "timezone test_constr nova.network "
    "barbican.container barbican.secret blazar.reservation cinder.qos_specs designate.zone "
    "magnum.cluster_template manila.share_network manila.share_snapshot "
    "manila.share_type mistral.workflow neutron.address_scope neutron.flow_classifier "
    "neutron.lbaas.listener neutron.lbaas.loadbalancer neutron.lbaas.pool "
    "neutron.lbaas.provider neutron.port_pair neutron.port_pair_group "
    "neutron.taas.tap_service neutron.taas.tap_flow octavia.l7policy octavia.flavorprofile "
    "octavia.availabilityzone octavia.availabilityzoneprofile trove.flavor zaqar.queue "
    "ironic.portgroup ironic.node"
)

HEAT_CONSTRAINTS: Mapping[str, Checked] = {
    **dict.fromkeys(OFFLINE, Checked.OFFLINE),
    **dict.fromkeys(_RUN_TIME.split(), Checked.RUN_TIME),
    **dict.fromkeys(_NOT_CHECKED.split(), Checked.NOT_CHECKED),
}
