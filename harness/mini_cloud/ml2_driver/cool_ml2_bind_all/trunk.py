"""The trunk driver that goes with the agentless mechanism driver: lets Neutron's
``trunk`` service plugin load (it refuses to start without a driver for the
deployment) and take trunks on the ports this driver binds (``ovs``), VLAN sub-ports,
bound or not. Agentless: nothing brings a trunk up, so it stays DOWN, which is built
as Heat reads it.

And one fix for SQLite: Neutron's ``trunk_details`` of a port reads its sub-ports' MAC
addresses through a second session (``get_admin_context()``) inside the request's
transaction. The mini cloud begins every SQLite transaction IMMEDIATE
(``harness/sqlite_immediate.py``), so that second session waits on the first for the
60 s busy timeout and every GET of a trunk's parent port answers 500 (Nova's boot on
it included). :func:`use_one_session` makes the plugin read them through the port's
own session instead (the sub-port rows' ``port`` relationship): the same answer.
"""

from __future__ import annotations

from typing import Any

from neutron.services.trunk import plugin
from neutron.services.trunk.drivers import base
from neutron_lib.db import resource_extend

NAME = "cool_bind_all"


class BindAllTrunkDriver(base.DriverBase):
    """Made by the mechanism driver's ``initialize``, before the trunk plugin starts,
    so that the plugin's AFTER_INIT event registers it."""

    @property
    def is_loaded(self) -> bool:
        return True

    @classmethod
    def create(cls) -> BindAllTrunkDriver:
        return cls(NAME, ("ovs",), ("vlan",), agent_type=None, can_trunk_bound_port=True)


def _trunk_details(port_res: dict[str, Any], port_db: Any) -> dict[str, Any]:
    """Neutron's ``trunk_details`` of a port, every sub-port's MAC from this session."""
    trunk = port_db.trunk_port
    if trunk:
        port_res["trunk_details"] = {
            "trunk_id": trunk.id,
            "sub_ports": [
                {
                    "segmentation_id": sub.segmentation_id,
                    "segmentation_type": sub.segmentation_type,
                    "port_id": sub.port_id,
                    "mac_address": sub.port.mac_address,
                }
                for sub in trunk.sub_ports
            ],
        }
    return port_res


def _as_is(ports_res: list[dict[str, Any]], _noop: Any) -> list[dict[str, Any]]:
    """Lists: every port's MACs are in already (:func:`_trunk_details`)."""
    return ports_res


def use_one_session() -> None:
    """Swap the trunk plugin's two port extenders for :func:`_trunk_details` (and a
    no-op for lists) before the plugin is made (it registers them then); idempotent."""
    for name, replacement in (
        ("_extend_port_trunk_details", _trunk_details),
        ("_extend_port_trunk_details_bulk", _as_is),
    ):
        current = plugin.TrunkPlugin.__dict__[name].__func__
        if current is replacement:
            continue
        resources = resource_extend._DECORATED_EXTEND_METHODS.pop(current)
        setattr(
            plugin.TrunkPlugin,
            name,
            staticmethod(resource_extend.extends(resources)(replacement)),
        )
