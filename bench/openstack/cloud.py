"""The openstack benchmark's pieces: cool deployed on the mini cloud as production runs
it, a project member who talks to both cool and the cloud, and the cloud's own count
of the API calls each side made.

cool here is what an operator deploys (the pattern of
``tests/openstack/cool_on_cloud.py``): cool-api with ``auth_strategy =
keystone`` makes a Keystone trust to cool's service user at each submit, and
``cool-worker`` processes on the ``openstack`` provider act through it
(``credentials = trust``). Everything else is cool.conf's default, so the
figures are what a user gets.

API calls are counted where both sides are seen the same way: in the access
logs of the cloud's gunicorn servers, between two offsets. The first word of a
request's User-Agent says who called: the member's session is named
``cool-bench-member`` (the hand-written script), keystoneauth names a cool-worker
``worker.py`` or ``cool-worker`` (its program), cool-api ``api.py`` or
``cool-api`` (its trusts) and its keystonemiddleware ``cool/<version>``; the rest
are the cloud's services calling each other (Nova asking Neutron for a port,
and so on), counted apart.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openstack.connection
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from cool.cli.client import CoolClient
from harness.api import ApiProcess
from harness.keystone.admin import DEFAULT_DOMAIN
from harness.mini_cloud.cloud import MiniCloud, project_counts

SERVICE_PASSWORD = "cool-bench-service-secret"
MEMBER_PASSWORD = "cool-bench-member-secret"
# The services whose access logs are read, and the file each one's is in.
SERVICES = ("keystone", "neutron", "nova", "cinder", "glance")
_ACCESS_LOG = {"keystone": "gunicorn.log"}
# An access log line: 127.0.0.1 - - [date] "GET /v2.0/ports HTTP/1.1" 200 641 "-" "agent"
_ACCESS = re.compile(r'^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" \d{3} \S+ "[^"]*" "([^"]*)"')
# An id in a path: a UUID (with or without dashes), or a name cool or the script made.
_ID = re.compile(
    r"^([0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|(cool|hand)-.+)$", re.I
)
MEMBER_AGENT = "cool-bench-member"
ACTORS = {
    MEMBER_AGENT: "baseline",
    "worker.py": "cool-worker",
    "cool-worker": "cool-worker",
    "api.py": "cool-api",
    "cool-api": "cool-api",
    "cool": "cool-api",  # its keystonemiddleware: cool/<version> keystonemiddleware...
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- the member ----------------------------------------------------------------------


@dataclass
class Member:
    """A user with ``member`` on a project of its own: the baseline's openstacksdk
    connection, cool's caller, and the eyes that count what the project holds."""

    cloud: MiniCloud
    project_id: str
    project_name: str
    user_name: str
    user_id: str
    session: ks_session.Session
    conn: openstack.connection.Connection

    @classmethod
    def create(cls, cloud: MiniCloud) -> Member:
        project_name, user_name = unique("bench"), unique("bench-user")
        project_id, user_id = cloud.create_member(project_name, user_name, MEMBER_PASSWORD)
        auth = v3.Password(
            auth_url=cloud.auth_url,
            username=user_name,
            password=MEMBER_PASSWORD,
            user_domain_id=DEFAULT_DOMAIN,
            project_name=project_name,
            project_domain_id=DEFAULT_DOMAIN,
        )
        session = ks_session.Session(auth=auth, timeout=60, app_name=MEMBER_AGENT)
        conn = openstack.connection.Connection(
            session=session, region_name=cloud.region_name, interface="public"
        )
        return cls(cloud, project_id, project_name, user_name, user_id, session, conn)

    def counts(self) -> dict[str, int]:
        return project_counts(self.conn, self.project_id)

    def settles_to(self, expected: Mapping[str, int], *, timeout_s: float = 60.0) -> dict[str, int]:
        """What the project holds once it holds ``expected``, or when ``timeout_s`` has
        passed (Nova lists a deleted server for a moment after saying it is gone)."""
        deadline = time.monotonic() + timeout_s
        while (counts := self.counts()) != expected and time.monotonic() < deadline:
            time.sleep(0.5)  # polling the cloud for a condition, as a user would
        return counts

    def cool(self, api: ApiProcess) -> CoolClient:
        """cool's client (the CLI's), authenticated with this member's token."""
        return CoolClient(self.session, api.url, timeout_s=60)

    def close(self) -> None:
        self.conn.close()


# -- cool on the cloud ---------------------------------------------------------------


def _service_options(cloud: MiniCloud, user: str) -> str:
    return (
        f"auth_url = {cloud.auth_url}\nusername = {user}\npassword = {SERVICE_PASSWORD}\n"
        f"user_domain_id = {DEFAULT_DOMAIN}\nproject_name = service\n"
        f"project_domain_id = {DEFAULT_DOMAIN}\nauth_type = password\n"
    )


@dataclass(frozen=True, slots=True)
class Deployment:
    """cool's configuration on ``cloud``: cool-api's, and what workers add to theirs."""

    api_config: str  # continues the [api] section ApiProcess writes
    worker_extra: str


def deployment(cloud: MiniCloud, hosts: str, root: str) -> Deployment:
    """A fresh service user in the cloud's Keystone, and cool's configuration with it."""
    service_user = unique("cool")
    cloud.admin().create_service_user(service_user, SERVICE_PASSWORD)
    common = (
        "[worker]\nprovider = openstack\n"
        f"[openstack]\ncredentials = trust\nregion_name = {cloud.region_name}\n"
        f"[trustee]\n{_service_options(cloud, service_user)}"
    )
    api = (
        "auth_strategy = keystone\n"
        f"[zookeeper]\nhosts = {hosts}\nroot = {root}\n"
        f"[keystone_authtoken]\n{_service_options(cloud, service_user)}"
        f"www_authenticate_uri = {cloud.auth_url}\ninterface = public\n"
        f"region_name = {cloud.region_name}\n" + common
    )
    return Deployment(api, common)


# -- builds through cool-api ---------------------------------------------------------


class BuildTimeoutError(RuntimeError):
    """A build did not reach the status awaited in time."""


_PAGE = 1000


def await_status(
    client: CoolClient,
    build_id: str,
    wanted: str,
    *,
    marker: int | None,
    timeout_s: float,
) -> tuple[dict[str, Any], int | None]:
    """Follow the build's events (long-polls, woken by ZooKeeper watches) until the
    build reaches ``wanted`` or finishes otherwise; the build then, and the last event
    id seen."""
    deadline = time.monotonic() + timeout_s
    while (remaining := deadline - time.monotonic()) > 0:
        events = client.events(build_id, marker=marker, wait_s=min(20.0, remaining), limit=_PAGE)
        ended = False
        for event in events:
            marker = int(event["id"])
            if event["resource"] is None and event["new_status"] == wanted:
                return client.build(build_id), marker
            ended = ended or event["resource"] is None
        if ended and (build := client.build(build_id))["finished"]:
            return build, marker  # finished, but not as wanted: the caller reports it
    raise BuildTimeoutError(f"build {build_id} not {wanted} within {timeout_s:.0f} s")


def parse_time(text: str) -> float:
    """An API timestamp (``2026-12-01T16:05:56.341Z``) as seconds since the epoch."""
    from datetime import datetime  # noqa: PLC0415

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def step_seconds(events: Iterable[Mapping[str, Any]], action: str) -> dict[str, float]:
    """Each resource's step, from its ``<action>_IN_PROGRESS`` event to its
    ``<action>_COMPLETE`` one (or RETAINED), in seconds."""
    began: dict[str, float] = {}
    took: dict[str, float] = {}
    for event in events:
        name = event["resource"]
        if name is None:
            continue
        at = parse_time(event["at"])
        if event["new_status"] == f"{action}_IN_PROGRESS":
            began.setdefault(name, at)
        elif event["new_status"] in (f"{action}_COMPLETE", "RETAINED") and name in began:
            took[name] = at - began[name]
    return took


def claim_seconds(events: Iterable[Mapping[str, Any]], action: str) -> float | None:
    """From the request (``submitted`` or the delete's event) to the first step's start."""
    requested = None
    for event in events:
        at = parse_time(event["at"])
        if event["resource"] is None and requested is None:
            if event["new_status"] in (f"{action}_QUEUED", f"{action}_IN_PROGRESS"):
                requested = at
        elif (
            event["resource"] is not None
            and requested is not None
            and event["new_status"] == f"{action}_IN_PROGRESS"
        ):
            return at - requested
    return None


# -- API calls, from the cloud's access logs -----------------------------------------


class CallCounter:
    """The cloud's access logs, read from where the last :meth:`take` left them."""

    def __init__(self, cloud: MiniCloud) -> None:
        assert cloud.layout is not None
        self._paths = {
            service: cloud.layout.service_dir(service)
            / _ACCESS_LOG.get(service, f"{service}-api.log")
            for service in SERVICES
        }
        self._offsets = {service: self._size(path) for service, path in self._paths.items()}

    @staticmethod
    def _size(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return 0

    def take(self) -> Counter[tuple[str, str]]:
        """Requests logged since the last take, by (service, caller); by (caller,
        service, request shape) in :attr:`shapes`."""
        counts: Counter[tuple[str, str]] = Counter()
        self.shapes: Counter[tuple[str, str, str]] = Counter()
        for service, path in self._paths.items():
            try:
                with path.open("rb") as log:
                    log.seek(self._offsets[service])
                    data = log.read()
            except OSError:
                continue
            complete = data.rfind(b"\n") + 1  # a line half written is read next time
            self._offsets[service] += complete
            for line in data[:complete].decode("utf-8", "replace").splitlines():
                if (who := access_caller(line)) is not None:
                    counts[(service, who)] += 1
                    self.shapes[(who, service, request_shape(line))] += 1
        return counts


def request_shape(line: str) -> str:
    """``METHOD /path`` with ids as ``{id}`` and query values left out: the calls of two
    builds compare by it (``GET /v2.0/ports?device_id=&device_owner=``)."""
    match = _ACCESS.match(line)
    if match is None:
        return ""
    method, target = match.group(1), match.group(2)
    path, _, query = target.partition("?")
    path = "/".join("{id}" if _ID.match(part) else part for part in path.split("/"))
    names = sorted({pair.split("=", 1)[0] for pair in query.split("&") if pair})
    return f"{method} {path}" + (f"?{'=&'.join(names)}=" if names else "")


def access_caller(line: str) -> str | None:
    """Who sent the request an access log line records, from its User-Agent (see the
    module docstring); None for a line that records no request."""
    match = _ACCESS.match(line)
    if match is None:
        return None
    program = match.group(3).split(" ", 1)[0].split("/", 1)[0]
    return ACTORS.get(program, "cloud services")
