"""The baseline: examples/multi-tier.yaml's 16 resources made by hand with openstacksdk,
strictly one after another, as a project member would script them.

Each resource is created and, where the cloud makes it asynchronously, waited
for with openstacksdk's own helpers (``wait_for_server``, ``wait_for_status``,
``wait_for_delete``) at a fixed interval of 1 s (``bench.openstack.run.SCRIPT_POLL_S``;
openstacksdk's own default is 2 s), while cool's workers start at
``poll_interval`` and back off to ``poll_interval_max``. Names, images,
flavors and the public network are looked up where a step needs them, as
cool's handlers do. No tags, no marks, no checkpoints: nothing that would let
the script resume after a crash, which is the work cool adds.

Deleting goes in the reverse order of creating, each delete waited for. The
database's volume is kept, as the template's ``deletion_policy: Retain`` keeps
it from cool's delete, and the caller removes it untimed for both.

Given the template's graph and a ``parallelism`` (:meth:`HandWritten.create`,
:meth:`HandWritten.delete`), the same steps run as the graph allows instead,
that many at once, each thread with an openstacksdk connection of its own on
the member's session: what a parallel engine with no bookkeeping at all (no
checkpoints, tags, fencing or look-ups) takes on this cloud.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import openstack.connection
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

WAIT_S = 300  # seconds for any one resource: far beyond what the mini cloud takes
CIDR = "10.10.0.0/24"  # the template's defaults, as the cool build gets them
DNS = ["8.8.8.8", "8.8.4.4"]
RULES = (
    {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote": "0.0.0.0/0"},
    {"protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote": "0.0.0.0/0"},
    {"protocol": "icmp"},
)
# The creates, in an order the template's dependencies allow (web's user data
# reads db's address, so db comes first); deletes go the other way.
ORDER = (
    "network",
    "subnet",
    "router",
    "router_interface",
    "security_group",
    "key",
    "db_port",
    "db",
    "web_port",
    "web",
    "web_volume",
    "web_volume_attachment",
    "web_floating_ip",
    "db_volume",
    "db_volume_attachment",
    "db_floating_ip",
)
RETAINED = frozenset({"db_volume"})


def schedule(
    steps: Mapping[str, Callable[[], Any]],
    needs: Mapping[str, set[str]],
    width: int,
    *,
    initializer: Callable[[], None] | None = None,
) -> Timings:
    """Each step once all it needs (of ``steps``) is done, ``width`` at once, the ready
    ones in name order; each step's time and the whole run's."""
    timings = Timings()
    waiting = {name: set(needs.get(name, ())) & set(steps) for name in steps}

    def timed(name: str) -> tuple[str, float]:
        began = time.perf_counter()
        steps[name]()
        return name, time.perf_counter() - began

    start = time.perf_counter()
    with ThreadPoolExecutor(width, initializer=initializer) as pool:
        running: set[Future[tuple[str, float]]] = set()
        while waiting or running:
            for name in sorted(name for name, left in waiting.items() if not left):
                del waiting[name]
                running.add(pool.submit(timed, name))
            if not running:
                raise ValueError(f"steps that wait on one another: {sorted(waiting)}")
            finished, running = wait(running, timeout=WAIT_S * 2, return_when=FIRST_COMPLETED)
            if not finished:
                raise TimeoutError("a step of the parallel script did not end in time")
            for future in finished:
                name, seconds = future.result()
                timings.steps[name] = seconds
                for left in waiting.values():
                    left.discard(name)
    timings.seconds = time.perf_counter() - start
    return timings


@dataclass
class Timings:
    """Seconds per resource, in the order the steps ran."""

    steps: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


class HandWritten:
    """One run of the script in ``conn``'s project: :meth:`create`, then :meth:`delete`."""

    def __init__(
        self, conn: openstack.connection.Connection, name: str, *, image: str, flavor: str,
        public_network: str, interval_s: float,
    ) -> None:  # fmt: skip
        self._conn = conn
        self._local = threading.local()  # a parallel run's thread: its own connection
        self.name = name
        self.image = image
        self.flavor = flavor
        self.public_network = public_network
        self.interval_s = interval_s
        self.made: dict[str, Any] = {}  # resource name -> what openstacksdk returned

    @property
    def conn(self) -> openstack.connection.Connection:
        return getattr(self._local, "conn", self._conn)

    # -- create

    def create(
        self, *, needs: Mapping[str, set[str]] | None = None, parallelism: int = 1
    ) -> Timings:
        """Every resource, one after another, each ready before the next begins; with
        ``needs`` (each resource's dependencies), as they allow, ``parallelism`` at once."""
        steps = {name: getattr(self, f"_create_{name}") for name in ORDER}
        return self._run(steps) if needs is None else self._parallel(steps, needs, parallelism)

    def _run(self, steps: dict[str, Callable[[], Any]]) -> Timings:
        timings = Timings()
        start = time.perf_counter()
        for name, step in steps.items():
            began = time.perf_counter()
            step()
            timings.steps[name] = time.perf_counter() - began
        timings.seconds = time.perf_counter() - start
        return timings

    def _parallel(
        self, steps: dict[str, Callable[[], Any]], needs: Mapping[str, set[str]], width: int
    ) -> Timings:
        """:func:`schedule`, each thread on an openstacksdk connection of its own (made
        before the clock starts, on the member's session: no new token)."""
        connections = [
            openstack.connection.Connection(
                session=self._conn.session,
                region_name=self._conn.config.region_name,
                interface="public",
            )
            for _ in range(width)
        ]

        def own_connection() -> None:
            self._local.conn = connections.pop()

        return schedule(steps, needs, width, initializer=own_connection)

    def _public_id(self) -> str:
        return str(self.conn.network.find_network(self.public_network, ignore_missing=False).id)

    def _create_network(self) -> None:
        self.made["network"] = self.conn.network.create_network(name=f"{self.name}-net")

    def _create_subnet(self) -> None:
        self.made["subnet"] = self.conn.network.create_subnet(
            name=f"{self.name}-subnet",
            network_id=self.made["network"].id,
            cidr=CIDR,
            ip_version=4,
            dns_nameservers=DNS,
        )

    def _create_router(self) -> None:
        self.made["router"] = self.conn.network.create_router(
            name=f"{self.name}-router", external_gateway_info={"network_id": self._public_id()}
        )

    def _create_router_interface(self) -> None:
        self.conn.network.add_interface_to_router(
            self.made["router"], subnet_id=self.made["subnet"].id
        )
        self.made["router_interface"] = self.made["subnet"].id

    def _create_security_group(self) -> None:
        group = self.conn.network.create_security_group(
            name=f"{self.name}-sg", description="SSH and HTTP from anywhere"
        )
        self.made["security_group"] = group
        for rule in RULES:
            remote = {"remote_ip_prefix": rule["remote"]} if "remote" in rule else {}
            ports = {k: v for k, v in rule.items() if k.startswith("port_range")}
            self.conn.network.create_security_group_rule(
                security_group_id=group.id,
                direction="ingress",
                ethertype="IPv4",
                protocol=rule["protocol"],
                **ports,
                **remote,
            )

    def _create_key(self) -> None:
        public = (
            ed25519.Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            .decode()
        )
        self.made["key"] = self.conn.compute.create_keypair(
            name=f"{self.name}-key", public_key=public
        )

    def _port(self, which: str) -> None:
        self.made[f"{which}_port"] = self.conn.network.create_port(
            name=f"{self.name}-{which}-port",
            network_id=self.made["network"].id,
            fixed_ips=[{"subnet_id": self.made["subnet"].id}],
            security_group_ids=[self.made["security_group"].id],
        )

    def _create_db_port(self) -> None:
        self._port("db")

    def _create_web_port(self) -> None:
        self._port("web")

    def _server(self, which: str, **extra: Any) -> None:
        server = self.conn.compute.create_server(
            name=f"{self.name}-{which}",
            image_id=self.conn.image.find_image(self.image, ignore_missing=False).id,
            flavor_id=self.conn.compute.find_flavor(self.flavor, ignore_missing=False).id,
            key_name=self.made["key"].name,
            networks=[{"port": self.made[f"{which}_port"].id}],
            **extra,
        )
        self.made[which] = server
        self.made[which] = self.conn.compute.wait_for_server(
            server, interval=self.interval_s, wait=WAIT_S
        )

    def _create_db(self) -> None:
        self._server("db")

    def _create_web(self) -> None:
        addresses = [a["addr"] for listed in self.made["db"].addresses.values() for a in listed]
        script = f'#!/bin/sh\necho "web tier, database at {addresses[0]}" > /etc/motd\n'
        self._server("web", user_data=base64.b64encode(script.encode()).decode())

    def _volume(self, which: str, description: str) -> None:
        volume = self.conn.block_storage.create_volume(
            name=f"{self.name}-{which}-volume", size=1, description=description
        )
        self.made[f"{which}_volume"] = volume
        self.conn.block_storage.wait_for_status(
            volume, "available", failures=["error"], interval=self.interval_s, wait=WAIT_S
        )

    def _create_web_volume(self) -> None:
        self._volume("web", "Data volume of the web server")

    def _create_db_volume(self) -> None:
        self._volume("db", "Data volume of the database (kept when the build is deleted)")

    def _attach(self, which: str) -> None:
        server, volume = self.made[which], self.made[f"{which}_volume"]
        self.conn.compute.create_volume_attachment(server, volume=volume)
        self.made[f"{which}_volume_attachment"] = (server.id, volume.id)
        self.conn.block_storage.wait_for_status(
            volume, "in-use", failures=["error", "error_attaching"], interval=self.interval_s,
            wait=WAIT_S,
        )  # fmt: skip

    def _create_web_volume_attachment(self) -> None:
        self._attach("web")

    def _create_db_volume_attachment(self) -> None:
        self._attach("db")

    def _floating_ip(self, which: str) -> None:
        self.made[f"{which}_floating_ip"] = self.conn.network.create_ip(
            floating_network_id=self._public_id(), port_id=self.made[f"{which}_port"].id
        )

    def _create_web_floating_ip(self) -> None:
        self._floating_ip("web")

    def _create_db_floating_ip(self) -> None:
        self._floating_ip("db")

    # -- delete

    def delete(
        self, *, needs: Mapping[str, set[str]] | None = None, parallelism: int = 1
    ) -> Timings:
        """What :meth:`create` made, in reverse order, each delete waited for; the
        retained volume stays (see the module docstring). With ``needs`` (each
        resource's dependencies), each goes once what depends on it is gone,
        ``parallelism`` at once."""
        steps = {
            name: getattr(self, f"_delete_{name}")
            for name in reversed(ORDER)
            if name in self.made and name not in RETAINED
        }
        if needs is None:
            return self._run(steps)
        dependents: dict[str, set[str]] = {name: set() for name in needs}
        for name, wanted in needs.items():
            for need in wanted:
                dependents.setdefault(need, set()).add(name)
        return self._parallel(steps, dependents, parallelism)

    def clean_up(self) -> None:
        """After a failure: whatever is left, best effort, in reverse order; then the
        retained volume too."""
        for name in reversed(ORDER):
            if name in self.made:
                # Whatever went wrong, the rest is still worth removing.
                with contextlib.suppress(Exception):
                    getattr(self, f"_delete_{name}")()

    def delete_retained(self) -> None:
        volume = self.made.get("db_volume")
        if volume is not None:
            self._delete_volume("db")

    def _gone(self, resource: Any) -> None:
        self.conn.compute.wait_for_delete(resource, interval=self.interval_s, wait=WAIT_S)

    def _delete_network(self) -> None:
        self.conn.network.delete_network(self.made.pop("network"))

    def _delete_subnet(self) -> None:
        self.conn.network.delete_subnet(self.made.pop("subnet"))

    def _delete_router(self) -> None:
        self.conn.network.delete_router(self.made.pop("router"))

    def _delete_router_interface(self) -> None:
        subnet_id = self.made.pop("router_interface")
        self.conn.network.remove_interface_from_router(self.made["router"], subnet_id=subnet_id)

    def _delete_security_group(self) -> None:
        self.conn.network.delete_security_group(self.made.pop("security_group"))

    def _delete_key(self) -> None:
        self.conn.compute.delete_keypair(self.made.pop("key"))

    def _delete_db_port(self) -> None:
        self.conn.network.delete_port(self.made.pop("db_port"))

    def _delete_web_port(self) -> None:
        self.conn.network.delete_port(self.made.pop("web_port"))

    def _delete_server(self, which: str) -> None:
        server = self.made.pop(which)
        self.conn.compute.delete_server(server)
        self._gone(server)

    def _delete_db(self) -> None:
        self._delete_server("db")

    def _delete_web(self) -> None:
        self._delete_server("web")

    def _delete_volume(self, which: str) -> None:
        volume = self.made.pop(f"{which}_volume")
        self.conn.block_storage.delete_volume(volume)
        self.conn.block_storage.wait_for_delete(volume, interval=self.interval_s, wait=WAIT_S)

    def _delete_web_volume(self) -> None:
        self._delete_volume("web")

    def _delete_db_volume(self) -> None:
        self._delete_volume("db")

    def _detach(self, which: str) -> None:
        server_id, volume_id = self.made.pop(f"{which}_volume_attachment")
        self.conn.compute.delete_volume_attachment(server_id, volume_id)
        self.conn.block_storage.wait_for_status(
            self.made[f"{which}_volume"], "available", failures=["error", "error_detaching"],
            interval=self.interval_s, wait=WAIT_S,
        )  # fmt: skip

    def _delete_web_volume_attachment(self) -> None:
        self._detach("web")

    def _delete_db_volume_attachment(self) -> None:
        self._detach("db")

    def _delete_web_floating_ip(self) -> None:
        self.conn.network.delete_ip(self.made.pop("web_floating_ip"))

    def _delete_db_floating_ip(self) -> None:
        self.conn.network.delete_ip(self.made.pop("db_floating_ip"))
