"""Nova's types for the openstack provider: servers and key pairs.

Servers carry cool's marks as server metadata (exact) and as tags (what the
list filters on), both set by the create itself.

Key pairs have no tags and no metadata: a key pair is its name, in the
user's namespace (with a trust, the submitter's). The rule cool follows:

- the template's ``name`` is the key pair's name, as in Heat (``get_resource``
  gives it, and servers name it in ``key_name``);
- cool marks the public key it uploads: its comment becomes
  ``cool-build=<id>,cool-resource=<name>`` (a comment is free text that no SSH
  implementation reads), so a worker that takes over finds the key pair by
  name and adopts it only if the mark is its step's. A key pair of that name
  without the mark belongs to someone else: the create fails, as in Heat
  (Nova's 409), and the delete of the build never touches it;
- without ``public_key``, cool makes an Ed25519 key itself (Nova 2.92 no
  longer generates keys) and keeps no private key: cool writes nothing secret
  to ZooKeeper, so ``save_private_key: true`` fails the step with a note
  saying to give ``public_key``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from openstack import exceptions as os_exceptions

from cool.clouds.base import (
    Found,
    Observed,
    ProviderError,
    ResourceExistsError,
    ResourceGoneError,
    StepContext,
)
from cool.clouds.openstack import identity, nova_extra
from cool.clouds.openstack.cloud import (
    Cloud,
    Handler,
    body,
    given,
    own,
    remember_answer,
    show,
)

_GONE = frozenset({"DELETED", "SOFT_DELETED"})  # as a step's resource: not there
_BDM_SOURCES = (  # Heat's block_device_mapping_v2 keys -> source_type
    ("volume_id", "volume"),
    ("snapshot_id", "snapshot"),
    ("image", "image"),
    ("image_id", "image"),
)


class Server:
    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        props = properties
        attrs: dict[str, Any] = {
            "name": props.get("name") or ctx.cloud_name,
            "flavor_id": cloud.flavor_id(props["flavor"]),
            "metadata": {**dict(props.get("metadata") or {}), **identity.metadata(ctx)},
            "tags": [*(props.get("tags") or ()), *identity.nova_tags(ctx)],
            "networks": self._networks(cloud, props.get("networks")),
            **body(
                props,
                {
                    "key_name": "key_name",
                    "availability_zone": "availability_zone",
                    "config_drive": "config_drive",
                    "admin_pass": "admin_password",
                    "diskConfig": "disk_config",
                },
            ),
        }
        if given(props.get("image")):
            attrs["image_id"] = cloud.image_id(props["image"])
        if given(props.get("security_groups")):
            attrs["security_groups"] = [{"name": str(g)} for g in props["security_groups"]]
        if given(props.get("user_data")):
            attrs["user_data"] = base64.b64encode(str(props["user_data"]).encode()).decode()
        if given(props.get("scheduler_hints")):
            attrs["scheduler_hints"] = dict(props["scheduler_hints"])
        mappings = self._block_devices(cloud, props)
        if mappings:
            attrs["block_device_mapping"] = mappings
        physical_id = str(cloud.conn.compute.create_server(**attrs).id)
        # Accepted, so BUILD: the step's first look need not ask (its next one does).
        remember_answer(ctx, physical_id, Observed(ready=False))
        return physical_id

    @staticmethod
    def _networks(cloud: Cloud, entries: Any) -> Any:
        """Heat's networks list as Nova's: names resolved to ids; no list is Nova's "auto"."""
        if not entries:
            return "auto"
        if entries in ([{"allocate_network": "auto"}], [{"allocate_network": "none"}]):
            return entries[0]["allocate_network"]
        out: list[dict[str, Any]] = []
        for entry in entries:
            nic: dict[str, Any] = {}
            if given(entry.get("port")):
                nic["port"] = cloud.port_id(entry["port"])
            else:
                network = entry.get("network") or entry.get("uuid")
                if not given(network) and given(entry.get("subnet")):
                    subnet = cloud.conn.network.get_subnet(cloud.subnet_id(entry["subnet"]))
                    network = subnet.network_id
                nic["uuid"] = cloud.network_id(network)
                if given(entry.get("fixed_ip")):
                    nic["fixed_ip"] = entry["fixed_ip"]
            if given(entry.get("tag")):
                nic["tag"] = entry["tag"]
            out.append(nic)
        return out

    @staticmethod
    def _block_devices(cloud: Cloud, props: Mapping[str, Any]) -> list[dict[str, Any]]:
        mappings: list[dict[str, Any]] = []
        for entry in props.get("block_device_mapping_v2") or ():
            mapping: dict[str, Any] = {}
            for key, source in _BDM_SOURCES:
                if given(entry.get(key)):
                    ref = entry[key]
                    mapping["uuid"] = cloud.image_id(ref) if source == "image" else str(ref)
                    mapping["source_type"] = source
                    break
            else:
                mapping["source_type"] = "blank"
            mapping["destination_type"] = (
                "local"
                if mapping["source_type"] == "image" and not entry.get("volume_size")
                else "volume"
            )
            for key, api in (
                ("boot_index", "boot_index"),
                ("device_name", "device_name"),
                ("device_type", "device_type"),
                ("disk_bus", "disk_bus"),
                ("volume_size", "volume_size"),
                ("delete_on_termination", "delete_on_termination"),
                ("ephemeral_format", "guest_format"),
            ):
                if entry.get(key) is not None:
                    mapping[api] = entry[key]
            if given(entry.get("swap_size")):
                mapping.update(source_type="blank", destination_type="local", guest_format="swap")
                mapping["volume_size"] = entry["swap_size"]
            mappings.append(mapping)
        for entry in props.get("block_device_mapping") or ():
            source = "volume" if given(entry.get("volume_id")) else "snapshot"
            mapping = {
                "uuid": str(entry.get("volume_id") or entry.get("snapshot_id")),
                "source_type": source,
                "destination_type": "volume",
                "device_name": entry.get("device_name"),
                "boot_index": 0 if entry.get("device_name") in ("vda", "/dev/vda") else -1,
            }
            for key in ("volume_size", "delete_on_termination"):
                if entry.get(key) is not None:
                    mapping[key] = entry[key]
            mappings.append(mapping)
        return mappings

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        servers = cloud.conn.compute.servers(tags=",".join(identity.nova_tags(ctx)))
        return identity.oldest_first(
            servers, keep=lambda s: identity.carries(ctx, s.metadata) and s.status not in _GONE
        )

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own("server", physical_id):
            server = cloud.conn.compute.get_server(physical_id)
        if server.status in _GONE:
            raise ResourceGoneError(f"server {physical_id} is {server.status}")
        if server.status == "ERROR":
            fault = server.fault or {}
            return Observed(ready=False, failed=str(fault.get("message") or "server went to ERROR"))
        if server.status != "ACTIVE":
            return Observed(ready=False)
        if ctx.external_id is None:  # an adopted server (external_id) is only read
            self._associate_floating_ips(cloud, ctx, server)
        return Observed(ready=True, attributes=self._attributes(cloud, ctx, server))

    @staticmethod
    def _associate_floating_ips(cloud: Cloud, ctx: StepContext, server: Any) -> None:
        """Heat's networks[].floating_ip: the floating IP to the server's port on that
        network, once the server is ACTIVE (idempotent: an associated one is left)."""
        for entry in ctx.properties.get("networks") or ():
            if not given(entry.get("floating_ip")):
                continue
            fip = cloud.conn.network.get_ip(str(entry["floating_ip"]))
            ports = cloud.conn.network.ports(device_id=server.id)
            if entry.get("port"):
                port_id: str | None = cloud.port_id(entry["port"])
            else:
                network = cloud.network_id(entry.get("network") or entry.get("uuid"))
                port_id = next((p.id for p in ports if p.network_id == network), None)
            if port_id and fip.port_id != port_id:
                cloud.conn.network.update_ip(fip, port_id=port_id)
                server.addresses = cloud.conn.compute.get_server(server.id).addresses

    @staticmethod
    def _attributes(cloud: Cloud, ctx: StepContext, server: Any) -> dict[str, Any]:
        addresses = dict(server.addresses or {})
        # Network names need not be unique: the ids come from the server's own ports.
        ids_by_name: dict[str, str] = {}
        for port in cloud.conn.network.ports(device_id=server.id):
            network = cloud.conn.network.get_network(port.network_id)
            ids_by_name.setdefault(str(network.name), str(network.id))
        networks: dict[str, list[str]] = {}
        for name, listed in addresses.items():
            ips = [a["addr"] for a in listed]
            networks[name] = ips
            if name in ids_by_name:
                networks[ids_by_name[name]] = ips
        fixed = [
            a["addr"]
            for listed in addresses.values()
            for a in listed
            if a.get("OS-EXT-IPS:type", "fixed") == "fixed"
        ]
        return {
            "name": server.name,
            "addresses": addresses,
            "networks": networks,
            "first_address": fixed[0] if fixed else "",
            "instance_name": server.instance_name,
            "accessIPv4": server.access_ipv4 or "",
            "accessIPv6": server.access_ipv6 or "",
            "console_urls": {},
            "tags": [t for t in server.tags or () if t not in identity.nova_tags(ctx)],
            "show": show(server),
        }

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        cloud.conn.compute.delete_server(physical_id, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        try:
            server = cloud.conn.compute.get_server(physical_id)
        except os_exceptions.NotFoundException:
            return True
        if server.status == "SOFT_DELETED":
            # A cloud with reclaim_instance_interval only soft-deletes: the server
            # keeps its ports and volumes until reclaimed. Delete it for good.
            cloud.conn.compute.delete_server(physical_id, ignore_missing=True, force=True)
            return False
        if server.status == "ERROR" and server.task_state is None:
            # An ERROR server whose delete was dropped: ask again (Nova allows it).
            cloud.conn.compute.delete_server(physical_id, ignore_missing=True)
        return server.status == "DELETED"


def _user(ctx: StepContext) -> dict[str, str]:
    """A key pair of another user (the template's ``user``, an id): admins only."""
    user = ctx.properties.get("user")
    return {"user_id": str(user)} if given(user) else {}


def _mark(ctx: StepContext) -> str:
    return ",".join(identity.neutron_tags(ctx))


def _marked(public_key: str, ctx: StepContext) -> str:
    """The key with cool's mark as its comment (the key's own comment is dropped)."""
    fields = public_key.strip().split()
    if len(fields) < 2:
        raise ProviderError(
            f"public_key of key pair {ctx.resource_name} is not an OpenSSH public key"
        )
    return f"{fields[0]} {fields[1]} {_mark(ctx)}"


def _carries_mark(public_key: str | None, ctx: StepContext) -> bool:
    fields = (public_key or "").strip().split()
    return len(fields) >= 3 and fields[2] == _mark(ctx)


class KeyPair:
    """Key pairs are known by name; see the module's docstring for cool's rule."""

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        if properties.get("save_private_key"):
            raise ProviderError(
                "save_private_key is not supported by the openstack provider: cool keeps "
                "nothing secret; give public_key instead"
            )
        if properties.get("type") == "x509":
            raise ProviderError(
                "key pairs of type x509 are not supported by the openstack provider: their "
                "certificate has no comment to carry cool's mark"
            )
        public = properties.get("public_key")
        if not given(public):
            key = ed25519.Ed25519PrivateKey.generate().public_key()
            public = key.public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
            ).decode()
        name = str(properties["name"])
        attrs: dict[str, Any] = {"name": name, "public_key": _marked(str(public), ctx)}
        if given(properties.get("type")):
            attrs["type"] = properties["type"]
        if given(properties.get("user")):
            attrs["user_id"] = properties["user"]
        try:
            cloud.conn.compute.create_keypair(**attrs)
        except os_exceptions.ConflictException as exc:
            raise ResourceExistsError(f"key pair {name!r} already exists") from exc
        return name

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        name = ctx.properties.get("name")
        if not given(name):
            return []
        keypair = cloud.conn.compute.find_keypair(str(name), ignore_missing=True, **_user(ctx))
        if keypair is None or not _carries_mark(keypair.public_key, ctx):
            return []
        return [Found(str(name), identity.timestamp(keypair.created_at))]

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own("key pair", physical_id):
            keypair = cloud.conn.compute.get_keypair(physical_id, **_user(ctx))
        # A key pair adopted by external_id is someone else's: it has no mark to check.
        if ctx.external_id is None and not _carries_mark(keypair.public_key, ctx):
            raise ResourceGoneError(f"key pair {physical_id!r} is not this step's any more")
        return Observed(
            ready=True,
            reference=physical_id,
            attributes={"public_key": keypair.public_key, "private_key": "", "show": show(keypair)},
        )

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        """Only the step's own (its name may be someone else's key by now). Nova deletes
        a key pair before it answers: the step's first look is that answer."""
        keypair = self._get(cloud, ctx, physical_id)
        if keypair is not None and _carries_mark(keypair.public_key, ctx):
            cloud.conn.compute.delete_keypair(physical_id, ignore_missing=True, **_user(ctx))
        remember_answer(ctx, physical_id, True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        keypair = self._get(cloud, ctx, physical_id)
        return keypair is None or not _carries_mark(keypair.public_key, ctx)

    @staticmethod
    def _get(cloud: Cloud, ctx: StepContext, name: str) -> Any:
        """The key pair of that name, or None: one GET (``find_keypair`` lists them all
        after a 404)."""
        try:
            return cloud.conn.compute.get_keypair(name, **_user(ctx))
        except os_exceptions.NotFoundException:
            return None


HANDLERS: Mapping[str, Handler] = {
    "OS::Nova::Server": Server(),
    "OS::Nova::KeyPair": KeyPair(),
    **nova_extra.HANDLERS,
}
