"""Which security group rules the openstack provider holds for the same rule (pure
logic: Neutron's rules as openstacksdk reads them, with Neutron's own names)."""

from __future__ import annotations

from openstack.network.v2.security_group_rule import SecurityGroupRule

from cool.clouds.openstack.neutron import _rule_key, _wanted_rule


def _as_listed(**fields: object) -> dict[str, object]:
    """A rule as a list of Neutron's gives it, through openstacksdk, by API names."""
    return SecurityGroupRule(**fields).to_dict(original_names=True)


def test_an_ipv6_rule_is_not_its_ipv4_twin() -> None:
    ipv6 = _as_listed(direction="egress", ether_type="IPv6")
    ipv4 = _as_listed(direction="egress", ether_type="IPv4")
    assert _rule_key(ipv6) != _rule_key(ipv4)
    assert _rule_key(ipv6)[1] == "IPv6"


def test_the_template_rule_and_neutrons_record_of_it_are_one_rule() -> None:
    wanted = _wanted_rule(
        "g1",
        {"direction": "ingress", "ethertype": "IPv6", "protocol": "tcp",
         "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "2001:db8::1"},
    )  # fmt: skip
    stored = _as_listed(
        direction="ingress", ether_type="IPv6", protocol="tcp", port_range_min=22,
        port_range_max=22, remote_ip_prefix="2001:db8::1/128",
    )  # fmt: skip
    assert _rule_key(wanted) == _rule_key(stored)


def test_neutrons_normal_forms() -> None:
    """Any address is no prefix, the whole port range is no range, as Neutron compares."""
    anywhere = _as_listed(direction="egress", ether_type="IPv4", remote_ip_prefix="0.0.0.0/0")
    assert _rule_key(anywhere) == _rule_key(_as_listed(direction="egress", ether_type="IPv4"))
    every_port = _as_listed(protocol="tcp", port_range_min=1, port_range_max=65535)
    assert _rule_key(every_port) == _rule_key(_as_listed(protocol="tcp"))
    assert _rule_key(_wanted_rule("g1", {"protocol": "icmp"}))[2] == "icmp"
    group = _wanted_rule("g1", {"remote_mode": "remote_group_id"})
    assert _rule_key(group)[6] == "g1"  # no group given: the group itself (Heat's rule)
