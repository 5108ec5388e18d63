"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for Neutron's QoS
types (:mod:`cool.resources.neutron_qos`).

A rule is a row under its policy, and a policy's ``rules`` are its live rule rows,
read when observed. As in Neutron, a policy holds one bandwidth limit per direction
and one DSCP mark: a second is a (simulated) 409. The sim has no roles, so the
cloud's admin-only default for QoS is not simulated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.clouds.base import ProviderError
from cool.clouds.sim.inventory import Birth, Inventory, Made, Maker, Observer

QOS_POLICY = "OS::Neutron::QoSPolicy"
BANDWIDTH_LIMIT_RULE = "OS::Neutron::QoSBandwidthLimitRule"
DSCP_MARKING_RULE = "OS::Neutron::QoSDscpMarkingRule"
_RULE_TYPES = {BANDWIDTH_LIMIT_RULE: "bandwidth_limit", DSCP_MARKING_RULE: "dscp_marking"}


def _policy(birth: Birth, _inventory: Inventory) -> Made:
    return {
        "name": birth.name,
        "description": birth.prop("description", default=""),
        "shared": birth.prop("shared", default=False),
        "is_default": False,
        "tenant_id": birth.prop("tenant_id", default=birth.project_id),
        "rules": [],
        "tags": [],
    }, None


def _rule(birth: Birth, inventory: Inventory, **fields: Any) -> Made:
    """A rule under its policy (a sim row, or one the sim pretends the cloud has)."""
    policy_id = birth.required("policy")
    inventory.get(policy_id, QOS_POLICY)  # a deleted policy is not found
    rule_type = _RULE_TYPES[birth.resource_type]
    for rule in inventory.children(policy_id, birth.resource_type):
        if rule.get("direction") == fields.get("direction"):
            why = f"policy {policy_id} already has a {rule_type} rule"
            if "direction" in fields:
                why += f" for direction {fields['direction']}"
            raise ProviderError(f"{why} (simulated 409 Conflict)")
    return {"qos_policy_id": policy_id, "type": rule_type, **fields}, policy_id


def _bandwidth_limit_rule(birth: Birth, inventory: Inventory) -> Made:
    return _rule(
        birth,
        inventory,
        max_kbps=int(birth.required("max_kbps")),
        max_burst_kbps=int(birth.prop("max_burst_kbps", default=0)),
        direction=birth.prop("direction", default="egress"),
    )


def _dscp_marking_rule(birth: Birth, inventory: Inventory) -> Made:
    return _rule(birth, inventory, dscp_mark=int(birth.required("dscp_mark")))


def _policy_now(
    attributes: Mapping[str, Any], _status: str, inventory: Inventory
) -> dict[str, Any]:
    """Its rules as Neutron lists them: every live rule row under it."""
    rules = [
        {k: v for k, v in rule.items() if k != "show"}
        for rule_type in _RULE_TYPES
        for rule in inventory.children(attributes["id"], rule_type)
    ]
    return {"rules": rules}


MAKERS: Mapping[str, Maker] = {
    QOS_POLICY: _policy,
    BANDWIDTH_LIMIT_RULE: _bandwidth_limit_rule,
    DSCP_MARKING_RULE: _dscp_marking_rule,
}
OBSERVERS: Mapping[str, Observer] = {QOS_POLICY: _policy_now}
