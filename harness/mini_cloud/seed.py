"""What a started mini cloud holds before any test: its catalog, service users, flavors,
one public image and the external network ``public``.

Made per run through the services' own REST APIs as the admin (keystoneauth1,
no SDK), ~2 s in all: the catalog names per-run ports, and the image's
location a per-run path, so none of it can live in the template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keystoneauth1 import session as ks_session

from harness.keystone.admin import REGION, SERVICE_PROJECT, KeystoneAdmin
from harness.mini_cloud.config import SERVICE_USERS, CloudLayout
from harness.mini_cloud.errors import MiniCloudError


@dataclass(frozen=True)
class Flavor:
    name: str
    flavor_id: str
    vcpus: int
    ram_mb: int
    disk_gb: int


FLAVORS = (
    Flavor("m1.tiny", "1", 1, 512, 1),
    Flavor("m1.small", "2", 1, 2048, 20),
    Flavor("m1.medium", "3", 2, 4096, 40),
)
IMAGE_NAME = "cirros"
IMAGE_SIZE = 64 * 1024  # raw zeros: the fake virt driver never reads it
PUBLIC_NETWORK = "public"
PUBLIC_SUBNET = "public-subnet"
PUBLIC_PHYSNET = "public"
PUBLIC_CIDR = "172.24.4.0/24"
PUBLIC_GATEWAY = "172.24.4.1"
PUBLIC_POOL = ("172.24.4.10", "172.24.4.250")


def register_services(admin: KeystoneAdmin, layout: CloudLayout) -> None:
    """The services' users (admin + service on project ``service``) and catalog entries.

    Each user logs in once here, one after the other: Keystone writes a user's
    ``last_active_at`` at its first password login of the day, and on SQLite
    two such writes at once fail one login with "database is locked" (a 500)
    even in WAL mode (a read transaction cannot upgrade to a write). The
    services all log in at once when they first validate a token.
    """
    user_ids = [admin.create_service_user(user, layout.service_password) for user in SERVICE_USERS]
    project_id = admin.project_id(SERVICE_PROJECT)
    if project_id is None or len(user_ids) != len(SERVICE_USERS):
        raise MiniCloudError("the service users were not created")
    for user in SERVICE_USERS:
        admin.token(user, layout.service_password, project_id)
    for service_type, (name, url) in layout.endpoints().items():
        admin.register_endpoint(service_type, url, name=name)


def _call(
    session: ks_session.Session,
    service_type: str,
    method: str,
    path: str,
    *,
    ok: tuple[int, ...] = (200, 201, 202, 204),
    **kwargs: Any,
) -> Any:
    response = session.request(
        path,
        method,
        endpoint_filter={
            "service_type": service_type,
            "interface": "public",
            "region_name": REGION,
        },
        raise_exc=False,
        **kwargs,
    )
    if response.status_code not in ok:
        raise MiniCloudError(
            f"{method} {service_type} {path} -> {response.status_code}: {response.text[:2000]}"
        )
    return response.json() if response.content else None


def create_flavors(session: ks_session.Session) -> None:
    for flavor in FLAVORS:
        body = {
            "flavor": {
                "name": flavor.name,
                "id": flavor.flavor_id,
                "vcpus": flavor.vcpus,
                "ram": flavor.ram_mb,
                "disk": flavor.disk_gb,
            }
        }
        _call(session, "compute", "POST", "/flavors", json=body)


def create_image(session: ks_session.Session) -> str:
    """A public raw image of zeros, active on return (a direct upload); returns its id."""
    body = {
        "name": IMAGE_NAME,
        "disk_format": "raw",
        "container_format": "bare",
        "visibility": "public",
    }
    image_id = str(_call(session, "image", "POST", "/v2/images", json=body)["id"])
    _call(
        session,
        "image",
        "PUT",
        f"/v2/images/{image_id}/file",
        data=bytes(IMAGE_SIZE),
        headers={"Content-Type": "application/octet-stream"},
    )
    status = _call(session, "image", "GET", f"/v2/images/{image_id}")["status"]
    if status != "active":
        raise MiniCloudError(f"image {IMAGE_NAME} is {status!r} after its upload")
    return image_id


def create_public_network(session: ks_session.Session) -> str:
    """The flat external network for router gateways and floating IPs; returns its id."""
    network = {
        "network": {
            "name": PUBLIC_NETWORK,
            "router:external": True,
            "shared": False,
            "provider:network_type": "flat",
            "provider:physical_network": PUBLIC_PHYSNET,
        }
    }
    network_id = str(
        _call(session, "network", "POST", "/v2.0/networks", json=network)["network"]["id"]
    )
    subnet = {
        "subnet": {
            "name": PUBLIC_SUBNET,
            "network_id": network_id,
            "ip_version": 4,
            "cidr": PUBLIC_CIDR,
            "gateway_ip": PUBLIC_GATEWAY,
            "allocation_pools": [{"start": PUBLIC_POOL[0], "end": PUBLIC_POOL[1]}],
            "enable_dhcp": False,
        }
    }
    _call(session, "network", "POST", "/v2.0/subnets", json=subnet)
    return network_id
