"""An agentless ML2 mechanism driver: every port binds, ACTIVE, on its first segment.

Neutron's shipped drivers bind only for a live agent (openvswitch, ...), and
its ``test`` driver asserts on what Nova sends, so with no agents a server's
port stays unbound and its boot fails. The mini cloud has no data plane: a
port bound as ``ovs`` with ``port_filter`` is what Nova's fake virt driver
needs to plug it. Its trunk driver (:mod:`cool_ml2_bind_all.trunk`) lets Neutron's
trunk plugin run on it. Installed only into the mini cloud's virtual environment
(``harness.mini_cloud.venv``); loaded by ML2 as ``cool_bind_all``.
"""

from __future__ import annotations

from typing import Any

from neutron_lib.plugins.ml2 import api

from cool_ml2_bind_all import trunk

VIF_TYPE = "ovs"
VIF_DETAILS = {"port_filter": True}


class BindAllMechanismDriver(api.MechanismDriver):
    """Binds any port, whatever its host, to the first segment it is offered."""

    def initialize(self) -> None:
        """No agent and no back end: only the trunk driver, which must exist before the
        trunk service plugin starts (service plugins load after ML2)."""
        trunk.use_one_session()
        self.trunk_driver = trunk.BindAllTrunkDriver.create()

    def bind_port(self, context: Any) -> None:
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], VIF_TYPE, dict(VIF_DETAILS), status="ACTIVE")
            return
