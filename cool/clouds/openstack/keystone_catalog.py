"""Keystone's catalog for the openstack provider: services, regions and endpoints.

A service is marked in its description. Regions and endpoints have none, but Keystone
keeps extra attributes of both, which openstacksdk drops: they are spoken to in plain
REST, and their mark is an extra ``description``. A region's id is the template's
``id``, URL-encoded as Heat does, else Keystone's.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import quote

from openstack import exceptions as os_exceptions

from cool.clouds.base import Found, Observed, ProviderError, StepContext
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import Cloud, Handler, given, own
from cool.clouds.openstack.keystone_marks import (
    Described,
    marked_description,
    marked_found,
    step_name,
    taken,
    unless_forbidden,
)


class Service(Described):
    kind = "service"
    unique = False  # Keystone keeps neither a service's name nor its type unique

    def _attrs(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> dict:
        return {
            "name": step_name(ctx, properties),
            "type": str(properties["type"]),
            "is_enabled": bool(properties.get("enabled", True)),
        }

    def _candidates(self, cloud: Cloud, ctx: StepContext) -> Any:
        return cloud.conn.identity.services(type=str(ctx.properties.get("type") or ""))


class _Raw:
    """A type whose mark is an extra attribute Keystone keeps (openstacksdk drops
    attributes it does not know): spoken to in plain REST."""

    path = ""  # "regions"
    key = ""  # "region"

    def _request(self, cloud: Cloud, method: str, url: str, **kwargs: Any) -> Any:
        response = cloud.conn.identity.request(url, method, **kwargs)
        os_exceptions.raise_from_response(response)
        return response.json() if response.content else None

    def _url(self, physical_id: str) -> str:
        """Its URL: the id quoted whole (a '/' in it too), as Keystone keeps it."""
        return f"/{self.path}/{quote(physical_id, safe='')}"

    def _get(self, cloud: Cloud, physical_id: str) -> dict[str, Any]:
        return dict(self._request(cloud, "GET", self._url(physical_id))[self.key])

    def _create(self, cloud: Cloud, attrs: Mapping[str, Any]) -> str:
        made = self._request(cloud, "POST", f"/{self.path}", json={self.key: dict(attrs)})
        return str(made[self.key]["id"])

    def _list(self, cloud: Cloud, **filters: Any) -> list[dict[str, Any]]:
        listed = self._request(cloud, "GET", f"/{self.path}", params=filters)
        return list(listed[self.path])

    @staticmethod
    def _shown(resource: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in resource.items() if k != "links" and v is not None}

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own(self.key, physical_id):
            resource = self._get(cloud, physical_id)
        return Observed(ready=True, attributes={"show": self._shown(resource)})

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        with suppress(os_exceptions.NotFoundException):
            self._request(cloud, "DELETE", self._url(physical_id))

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        try:
            self._get(cloud, physical_id)
        except os_exceptions.NotFoundException:
            return True
        return False


class Region(_Raw):
    """Its id is the template's ``id``, URL-encoded as Heat does, else Keystone's."""

    path, key = "regions", "region"

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        attrs: dict[str, Any] = {
            "description": marked_description(ctx, properties),
            "enabled": bool(properties.get("enabled", True)),
        }
        if given(properties.get("id")):
            attrs["id"] = quote(str(properties["id"]), safe="")
        if given(properties.get("parent_region")):
            attrs["parent_region_id"] = str(properties["parent_region"])
        with taken("region", str(attrs.get("id", ""))):
            return self._create(cloud, attrs)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        return unless_forbidden(lambda: self._find(cloud, ctx))

    def _find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        region_id = ctx.properties.get("id")
        if not given(region_id):
            return marked_found(ctx, self._list(cloud))
        try:
            return marked_found(ctx, [self._get(cloud, quote(str(region_id), safe=""))])
        except os_exceptions.NotFoundException:
            return []


class Endpoint(_Raw):
    """Found by its service and interface, and its mark (an extra ``description``)."""

    path, key = "endpoints", "endpoint"

    @staticmethod
    def _service_id(cloud: Cloud, ref: Any) -> str:
        return str(cloud._find(cloud.conn.identity.find_service, "service", ref).id)

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        attrs: dict[str, Any] = {
            "service_id": self._service_id(cloud, properties["service"]),
            "interface": str(properties["interface"]),
            "url": str(properties["url"]),
            "name": step_name(ctx, properties),
            "enabled": bool(properties.get("enabled", True)),
            "description": identity.mark(ctx),
        }
        if given(properties.get("region")):
            attrs["region_id"] = str(properties["region"])
        return self._create(cloud, attrs)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        return unless_forbidden(lambda: self._find(cloud, ctx))

    def _find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        props = ctx.properties
        if not given(props.get("service")):
            return []
        try:
            service = self._service_id(cloud, props["service"])
        except ProviderError:
            return []  # the service is gone: so are its endpoints
        listed = self._list(cloud, service_id=service, interface=props.get("interface"))
        return marked_found(ctx, listed)


HANDLERS: Mapping[str, Handler] = {
    "OS::Keystone::Region": Region(),
    "OS::Keystone::Service": Service(),
    "OS::Keystone::Endpoint": Endpoint(),
}
