"""OS::Nova::HostAggregate for the openstack provider. Admin-only in Nova's default
policy: a member's create is Nova's 403, which the provider's boundary makes a clear
error.

An aggregate's create takes only a name and an availability zone; its metadata and
hosts are set by further calls. Its mark is metadata (``cool-build``,
``cool-resource``), which a second call sets, so the create itself names it after
the mark (:func:`cool.clouds.openstack.identity.mark`, unique in the cloud as Nova
wants aggregate names to be): until ``observe`` has set the marks, the metadata and
the hosts, and then renamed it to the template's name, a step finds its aggregate by
that name; after, by the marks. A worker that dies anywhere in between leaves an
aggregate the next one adopts and finishes; one without the step's mark (an
aggregate the template's name already names) is never adopted, and never deleted.
Nova deletes an aggregate only once it has no hosts: a delete removes them first.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from openstack import exceptions as os_exceptions

from cool.clouds.base import Found, Observed, ProviderError, ResourceExistsError, StepContext
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import Cloud, Handler, given, own, show


def _aggregate(cloud: Cloud, physical_id: str) -> Any:
    """The aggregate, or None once it is gone."""
    try:
        return cloud.conn.compute.get_aggregate(physical_id)
    except os_exceptions.NotFoundException:
        return None


def _metadata(ctx: StepContext) -> dict[str, str | None]:
    """The template's metadata (Nova's strings; null unsets a key) and the step's marks."""
    given_metadata = dict(ctx.properties.get("metadata") or {})
    wanted = {str(k): None if v is None else str(v) for k, v in given_metadata.items()}
    return {**wanted, **identity.metadata(ctx)}


def _listed(cloud: Cloud) -> list[Any]:
    """Every aggregate; none for who may not list them (Nova's default policy lets only
    administrators, who alone may create one: a member's step made none)."""
    try:
        return list(cloud.conn.compute.aggregates())
    except os_exceptions.ForbiddenException:
        return []


class HostAggregate:
    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        name = str(properties["name"])
        if any(a.name == name for a in _listed(cloud)):  # a member: the create says 403
            raise ResourceExistsError(f"a host aggregate named {name!r} already exists")
        attrs: dict[str, Any] = {"name": identity.mark(ctx)}
        if given(properties.get("availability_zone")):
            attrs["availability_zone"] = str(properties["availability_zone"])
        try:
            aggregate = cloud.conn.compute.create_aggregate(**attrs)
        except os_exceptions.ConflictException as exc:  # the step's own, made before
            raise ResourceExistsError(f"host aggregate {attrs['name']!r} exists") from exc
        return str(aggregate.id)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        unfinished = identity.mark(ctx)  # the name until observe renames it
        return identity.oldest_first(
            _listed(cloud),
            keep=lambda a: a.name == unfinished or identity.carries(ctx, a.metadata),
        )

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own("host aggregate", physical_id):
            aggregate = cloud.conn.compute.get_aggregate(physical_id)
        if ctx.external_id is None:  # an adopted aggregate (external_id) is only read
            aggregate = self._converge(cloud, ctx, aggregate)
        return Observed(ready=True, attributes={"show": show(aggregate)})

    @staticmethod
    def _converge(cloud: Cloud, ctx: StepContext, aggregate: Any) -> Any:
        """Marks and metadata, then the template's name, then the hosts (idempotent)."""
        compute = cloud.conn.compute
        have = dict(aggregate.metadata or {})
        wanted = _metadata(ctx)
        if any(have.get(k) != v for k, v in wanted.items()):
            aggregate = compute.set_aggregate_metadata(aggregate, wanted)
        name = str(ctx.properties["name"])
        if aggregate.name != name:
            try:
                aggregate = compute.update_aggregate(aggregate, name=name)
            except os_exceptions.ConflictException as exc:
                raise ProviderError(
                    f"a host aggregate named {name!r} already exists (HTTP 409)"
                ) from exc
        for host in ctx.properties.get("hosts") or []:
            if str(host) not in (aggregate.hosts or []):
                aggregate = compute.add_host_to_aggregate(aggregate, str(host))
        return aggregate

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        aggregate = _aggregate(cloud, physical_id)
        if aggregate is None:
            return
        for host in aggregate.hosts or []:
            with suppress(os_exceptions.NotFoundException):  # removed already (retried)
                cloud.conn.compute.remove_host_from_aggregate(aggregate, host)
        cloud.conn.compute.delete_aggregate(physical_id, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        return _aggregate(cloud, physical_id) is None


HANDLERS: Mapping[str, Handler] = {"OS::Nova::HostAggregate": HostAggregate()}
