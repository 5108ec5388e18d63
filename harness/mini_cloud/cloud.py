"""A real, small OpenStack cloud on loopback: Keystone, Neutron, Nova (fake virt driver),
Placement, Glance and Cinder (fake volume driver) from PyPI, and a private RabbitMQ;
Octavia (no-op drivers) on demand (:meth:`MiniCloud.start_octavia`).

For the tests of cool's ``openstack`` provider and for a developer's shell.
Every API runs under gunicorn on 127.0.0.1 with a free port and checks
tokens with keystonemiddleware, so trusts, roles and the catalog behave as
in production. Its parts, one job each:

- :mod:`harness.mini_cloud.venv`: the one virtual environment (``--ensure-venv``)
- :mod:`harness.mini_cloud.template`: databases built once per machine, copied per run
- :mod:`harness.mini_cloud.config`: the directory layout and every configuration file
- :mod:`harness.mini_cloud.rabbit`: the private RabbitMQ node
- :mod:`harness.mini_cloud.processes`: processes that die with their starter
- :mod:`harness.mini_cloud.seed`: catalog, flavors, image, network ``public``

The API::

    cloud = MiniCloud(Path("/tmp/cloud")).start()       # ~35 s from the templates
    try:
        project_id, user_id = cloud.create_member("demo", "alice", "secret")
        entry = cloud.clouds_yaml_entry("alice", "secret", "demo")
        cloud.write_clouds_yaml(path, {"demo": entry})    # for openstacksdk / the CLI
        conn = cloud.admin_connection()                   # openstacksdk, as the admin
        conn = cloud.connect("alice", "secret", "demo")   # openstacksdk, as the member
        cloud.auth_url, cloud.region_name, cloud.admin_password
        cloud.public_network, cloud.image_name, cloud.flavor_name  # "public", "cirros", "m1.tiny"
        cloud.admin()                                     # a KeystoneAdmin (harness.keystone.admin)
        cloud.log_tail("nova-compute")                    # any process name of cloud.process_names
    finally:
        cloud.stop()                                      # every process, also after a failed start

A cloud lives as long as its processes: :meth:`MiniCloud.start` wipes what
an earlier run left in the directory. They die with the thread that started
them, even on SIGKILL (see :mod:`harness.mini_cloud.processes`).

The dev command::

    python -m harness.mini_cloud --ensure-venv      # the venv and the templates
    python -m harness.mini_cloud up --dir DIR       # serves until Ctrl-C or `down`
    python -m harness.mini_cloud down --dir DIR
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import yaml
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from harness.daemons import Daemon, adopt, wait_until
from harness.files import write_private
from harness.keystone.admin import (
    ADMIN_PROJECT,
    ADMIN_USER,
    DEFAULT_DOMAIN,
    REGION,
    KeystoneAdmin,
)
from harness.keystone.errors import KeystoneError, KeystoneTimeoutError
from harness.keystone.server import KeystoneServer
from harness.mini_cloud import octavia
from harness.mini_cloud.config import COMPUTE_HOST, CloudLayout, Ports
from harness.mini_cloud.errors import (
    MiniCloudError,
    MiniCloudNotInstalledError,
    MiniCloudTimeoutError,
)
from harness.mini_cloud.processes import http_status, spawn, stop_all, wait_for
from harness.mini_cloud.rabbit import RabbitNode
from harness.mini_cloud.seed import (
    FLAVORS,
    IMAGE_NAME,
    PUBLIC_NETWORK,
    create_flavors,
    create_image,
    create_public_network,
    register_services,
)
from harness.mini_cloud.template import (
    copy_template,
    default_template_dir,
    ensure_template,
    service_env,
    write_configs,
)
from harness.mini_cloud.venv import (
    INSTALL_HINT,
    default_venv_path,
    ensure_venv,
    is_venv_complete,
)
from harness.zookeeper import free_ports

if TYPE_CHECKING:
    import openstack.connection

LOG = logging.getLogger(__name__)

_STOP_TIMEOUT_S = 15.0
_STATE = "state.json"
_READY = "ready.json"  # what a client of the dev command needs, once the cloud serves
_ADMIN_CLOUD = "mini-admin"
# service -> its API's WSGI application (under gunicorn)
_APIS = {
    "placement": "placement.wsgi.api:application",
    "glance": "glance.wsgi.api:application",
    "neutron": "neutron.wsgi.api:application",
    "nova": "nova.wsgi.osapi_compute:application",
    "cinder": "cinder.wsgi.api:application",
}


class MiniCloud:
    """One mini OpenStack cloud in ``base_dir`` (see the module docstring)."""

    region_name = REGION
    public_network = PUBLIC_NETWORK
    image_name = IMAGE_NAME
    flavor_name = FLAVORS[0].name
    flavor_names = tuple(flavor.name for flavor in FLAVORS)

    def __init__(
        self, base_dir: Path, *, venv: Path | None = None, template_dir: Path | None = None
    ) -> None:
        self.base_dir = base_dir.resolve()
        self.venv = (venv or default_venv_path()).resolve()
        self.template_dir = template_dir or default_template_dir()
        self.layout: CloudLayout | None = None
        self._keystone: KeystoneServer | None = None
        self._rabbit: RabbitNode | None = None
        self._daemons: list[Daemon] = []
        self._admin: KeystoneAdmin | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<MiniCloud {self.base_dir} {self.auth_url if self.layout else '(stopped)'}>"

    # -- facts

    def _layout(self) -> CloudLayout:
        if self.layout is None:
            raise MiniCloudError(f"{self!r} is not started")
        return self.layout

    @property
    def auth_url(self) -> str:
        """Keystone's v3 API, e.g. ``http://127.0.0.1:PORT/v3``."""
        return self._layout().auth_url

    @property
    def admin_password(self) -> str:
        """The password of ``admin`` (project ``admin``, domain ``default``)."""
        if self._keystone is None:
            raise MiniCloudError(f"{self!r} is not started")
        return self._keystone.admin_password

    @property
    def process_names(self) -> list[str]:
        """What :meth:`log_tail` knows: ``keystone`` and every other process's name."""
        return ["keystone", *(daemon.name for daemon in self._daemons)]

    @property
    def pids(self) -> list[int]:
        """The pids of every process group leader it started (Keystone's gunicorn included)."""
        pids = [daemon.pid for daemon in self._daemons]
        if self._keystone is not None and self._keystone.pid is not None:
            pids.append(self._keystone.pid)
        return pids

    @property
    def is_running(self) -> bool:
        return bool(self._daemons) and all(daemon.alive for daemon in self._daemons)

    # -- life cycle

    def start(self, *, timeout_s: float = 120.0) -> Self:
        """Copy the templates, start every service, seed it, wait until it can schedule.

        ``timeout_s`` counts from the copy; building a missing template (~45 s,
        once per machine) comes before it. Any failure stops every process
        started so far and raises with their log tails.
        """
        if not is_venv_complete(self.venv):
            raise MiniCloudNotInstalledError(f"{self.venv} is not complete: run `{INSTALL_HINT}`")
        with self._lock:
            if self._daemons or self._keystone is not None:
                raise MiniCloudError(f"{self!r} is already started")
            template_dir = ensure_template(self.venv, self.template_dir)
            started = time.monotonic()
            deadline = started + timeout_s
            try:
                self._start(template_dir, deadline)
            except BaseException:
                self._stop_processes()
                raise
            LOG.info("mini cloud %s up in %.1fs", self.auth_url, time.monotonic() - started)
        return self

    def _start(self, template_dir: Path, deadline: float) -> None:
        layout = self._prepare_dir(template_dir)
        env = service_env(self.venv)
        self._rabbit = RabbitNode(layout)
        self._daemons.extend(self._rabbit.start())
        for service in _APIS:  # the slowest to import: first, while Keystone boots
            self._spawn_api(layout, service, env)
        self._keystone = KeystoneServer(
            base_dir=layout.service_dir("keystone"),
            port=layout.ports.keystone,
            venv=self.venv,
            template_dir=template_dir / "keystone",
            keep=True,
        )
        try:
            self._keystone.start(timeout_s=max(1.0, deadline - time.monotonic()))
        except KeystoneTimeoutError as exc:  # one error tree for the callers of a cloud
            raise MiniCloudTimeoutError(f"Keystone did not start in time: {exc}") from exc
        except KeystoneError as exc:
            raise MiniCloudError(f"Keystone did not start: {exc}") from exc
        register_services(self._keystone.admin, layout)
        self._rabbit.wait_ready(deadline)
        nova_conf = layout.service_dir("nova") / "nova.conf"
        cinder_conf = layout.service_dir("cinder") / "cinder.conf"
        for name, conf in (
            ("nova-conductor", nova_conf),
            ("nova-scheduler", nova_conf),
            ("cinder-scheduler", cinder_conf),
            ("cinder-volume", cinder_conf),
        ):
            self._spawn_service(layout, name, conf, env)
        # nova-compute reports to Placement at start: only once Placement answers.
        self._wait_api(layout, "placement", deadline)
        self._spawn_service(layout, "nova-compute", nova_conf, env)
        for service in _APIS:
            self._wait_api(layout, service, deadline)
        session = self.admin().session()
        create_flavors(session)
        create_image(session)
        create_public_network(session)
        self._wait_schedulable(layout, session, deadline)

    def start_octavia(self, *, timeout_s: float = 90.0) -> None:
        """Add Octavia (its API and worker, no-op drivers) to the started cloud, once: only
        the load balancer tests need it (:mod:`harness.mini_cloud.octavia`). Its processes
        stop with the cloud's; a failed start stops those it started and raises."""
        with self._lock:
            if any(daemon.name == "octavia-api" for daemon in self._daemons):
                return
            layout = self._layout()
            if self._keystone is None:
                raise MiniCloudError(f"{self!r} is not started")
            started: list[Daemon] = []
            begun = time.monotonic()
            try:
                octavia.start(
                    layout,
                    self._keystone.admin,
                    port=free_ports(1)[0],
                    env=service_env(self.venv),
                    deadline=begun + timeout_s,
                    daemons=started,
                )
            except BaseException:
                stop_all(started, timeout_s=_STOP_TIMEOUT_S)
                raise
            self._daemons.extend(started)
            LOG.info("Octavia up in %.1fs", time.monotonic() - begun)

    def _prepare_dir(self, template_dir: Path) -> CloudLayout:
        """A fresh layout (ports, service password) over a wiped copy of the templates."""
        for name in ("rabbitmq", "keystone", *_APIS, octavia.SERVICE):
            shutil.rmtree(self.base_dir / name, ignore_errors=True)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        layout = CloudLayout(
            self.base_dir, self.venv, Ports(*free_ports(9)), secrets.token_urlsafe(18)
        )
        write_configs(layout)
        copy_template(template_dir, layout)
        self.layout = layout
        return layout

    def _spawn_api(self, layout: CloudLayout, service: str, env: dict[str, str]) -> None:
        directory = layout.service_dir(service)
        argv: list[str] = []
        env = dict(env)
        if service == "placement":
            env["OS_PLACEMENT_CONFIG_DIR"] = str(directory)
        elif service == "glance":
            env["OS_GLANCE_CONFIG_DIR"] = str(directory)
        elif service == "neutron":
            env["OS_NEUTRON_CONFIG_DIR"] = str(directory)
            env["OS_NEUTRON_CONFIG_FILES"] = "neutron.conf;ml2_conf.ini"
        elif service == "nova":
            env["OS_NOVA_CONFIG_DIR"] = str(directory)
            env["OS_NOVA_CONFIG_FILES"] = "api-paste.ini;nova.conf"  # paste's first
        else:  # cinder reads its configuration from sys.argv only
            argv = ["--config-file", str(directory / "cinder.conf")]
        (directory / "gunicorn.conf.py").write_text(
            layout.gunicorn_conf(service, _APIS[service], argv)
        )
        self._daemons.append(
            spawn(
                f"{service}-api",
                [self.venv / "bin" / "gunicorn"],
                log=directory / f"{service}-api.log",
                cwd=directory,
                env=env,
            )
        )

    def _spawn_service(
        self, layout: CloudLayout, name: str, conf: Path, env: dict[str, str]
    ) -> None:
        self._daemons.append(
            spawn(
                name,
                [self.venv / "bin" / name, "--config-file", conf],
                log=conf.parent / f"{name}.log",
                cwd=conf.parent,
                env=env,
            )
        )

    @contextlib.contextmanager
    def paused(self, name: str) -> Iterator[None]:
        """Process ``name`` stopped (SIGSTOP, its whole group) while inside: what a slow
        service leaves (Octavia's objects PENDING_* while its worker is busy) held for as
        long as a test needs it, not for as long as a race lasts."""
        daemon = self._daemon(name)
        daemon.pause()
        try:
            yield
        finally:
            daemon.resume()

    def _daemon(self, name: str) -> Daemon:
        for daemon in self._daemons:
            if daemon.name == name:
                return daemon
        raise MiniCloudError(f"no process {name!r} in {self!r} (known: {self.process_names})")

    def _wait_api(self, layout: CloudLayout, service: str, deadline: float) -> None:
        """Until the API's root answers: its worker has loaded the app (gunicorn's
        master binds the port before that, so a connection alone proves nothing)."""
        port = layout.api_port(service)
        daemon = self._daemon(f"{service}-api")
        wait_for(
            f"{service}'s API on port {port}",
            lambda: (http_status(port) or 500) < 500,
            deadline=deadline,
            daemons=[daemon],
        )

    def _wait_schedulable(
        self, layout: CloudLayout, session: ks_session.Session, deadline: float
    ) -> None:
        """Until a server and a volume can be scheduled: nova-compute's resource provider
        has inventory in Placement, its host is mapped to cell1, and Cinder's scheduler
        knows the fake back end's pool."""
        compute = [
            self._daemon(name) for name in ("nova-compute", "nova-scheduler", "nova-conductor")
        ]
        volume = [self._daemon(name) for name in ("cinder-volume", "cinder-scheduler")]

        def has_inventory() -> bool:
            providers = _get(session, "placement", f"/resource_providers?name={COMPUTE_HOST}")
            for provider in (providers or {}).get("resource_providers", []):
                inventories = _get(
                    session, "placement", f"/resource_providers/{provider['uuid']}/inventories"
                )
                if "VCPU" in (inventories or {}).get("inventories", {}):
                    return True
            return False

        def is_mapped() -> bool:
            db_path = layout.service_dir("nova") / "nova_api.sqlite"
            uri = f"file:{db_path}?mode=ro"
            try:
                with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as db:
                    row = db.execute("SELECT 1 FROM host_mappings WHERE host = ?", (COMPUTE_HOST,))
                    return row.fetchone() is not None
            except sqlite3.Error:  # busy, or mid-checkpoint: ask again
                return False

        def has_pool() -> bool:
            pools = _get(session, "block-storage", "/scheduler-stats/get_pools")
            return bool((pools or {}).get("pools"))

        tail = self._all_log_tails
        wait_for(
            "nova-compute's inventory in Placement",
            has_inventory,
            deadline=deadline,
            daemons=compute,
            log_tail=tail,
        )
        wait_for(
            "nova-compute's host mapping",
            is_mapped,
            deadline=deadline,
            daemons=compute,
            log_tail=tail,
        )
        wait_for(
            "the Cinder scheduler's pool of the fake back end",
            has_pool,
            deadline=deadline,
            daemons=volume,
            log_tail=tail,
        )

    def stop(self) -> None:
        """Stop every process it started (whole process groups); safe to call twice."""
        with self._lock:
            self._stop_processes()

    def _stop_processes(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        keystone, self._keystone = self._keystone, None
        daemons, self._daemons = self._daemons, []
        errors: list[BaseException] = []

        def stop_keystone() -> None:
            try:
                if keystone is not None:
                    keystone.stop(timeout_s=_STOP_TIMEOUT_S)
            except BaseException as exc:  # raised below, once the rest has stopped
                errors.append(exc)

        thread = threading.Thread(target=stop_keystone, name="stop-keystone")
        thread.start()
        # The broker last: services that lose it log reconnection errors while stopping.
        broker = [daemon for daemon in daemons if daemon.name in {"rabbitmq", "epmd"}]
        stop_all([daemon for daemon in daemons if daemon not in broker], timeout_s=_STOP_TIMEOUT_S)
        stop_all(broker, timeout_s=_STOP_TIMEOUT_S)
        thread.join()
        self._rabbit = None
        if errors:
            raise errors[0]

    def __enter__(self) -> Self:
        if not self._daemons:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, service: str, size: int = 4000) -> str:
        """The end of one process's log (``keystone``, ``nova-compute``, ``neutron-api``, ...)."""
        if service == "keystone":
            return self._keystone.log_tail() if self._keystone is not None else ""
        return self._daemon(service).log_tail(size)

    def _all_log_tails(self) -> str:
        return "\n".join(
            f"--- {daemon.name} ({daemon.log}) ---\n{daemon.log_tail(1500)}"
            for daemon in self._daemons
        )

    # -- users and clients

    def admin(self) -> KeystoneAdmin:
        """The cloud's admin (a session whose catalog is the full one; closed by stop())."""
        if self._admin is None:
            self._admin = KeystoneAdmin(self.auth_url, self.admin_password)
        return self._admin

    def admin_connection(self) -> openstack.connection.Connection:
        """openstacksdk as ``admin`` on project ``admin`` (the caller closes it)."""
        return self.connect(ADMIN_USER, self.admin_password, ADMIN_PROJECT)

    def connect(
        self, user_name: str, password: str, project_name: str
    ) -> openstack.connection.Connection:
        """openstacksdk as a default-domain user on a project (the caller closes it).

        Built on a keystoneauth1 session: openstacksdk 4.22's own config loader
        warns (RemovedInSDK60Warning, an error under pytest's filterwarnings)
        about InfluxDB on every ``openstack.connect(...)``.
        """
        import openstack.connection  # noqa: PLC0415  (only clouds/ imports it at load)

        auth = v3.Password(**self.clouds_yaml_entry(user_name, password, project_name)["auth"])
        return openstack.connection.Connection(
            session=ks_session.Session(auth=auth, timeout=60),
            region_name=self.region_name,
            interface="public",
        )

    def create_member(self, project_name: str, user_name: str, password: str) -> tuple[str, str]:
        """A new project and a user with ``member`` on it (``reader`` implied); their ids."""
        admin = self.admin()
        project_id = admin.create_project(project_name)
        user_id = admin.create_user(user_name, password, project_id, ["member"])
        return project_id, user_id

    def clouds_yaml_entry(self, user_name: str, password: str, project_name: str) -> dict[str, Any]:
        """One cloud of a ``clouds.yaml``: a default-domain user on a project."""
        return clouds_yaml_entry(self.auth_url, self.region_name, user_name, password, project_name)

    @staticmethod
    def write_clouds_yaml(path: Path, clouds: Mapping[str, Mapping[str, Any]]) -> Path:
        """Write ``{"clouds": clouds}`` to ``path`` (mode 0600: it holds passwords)."""
        document = {"clouds": {name: dict(entry) for name, entry in clouds.items()}}
        write_private(path, yaml.safe_dump(document))
        return path


def clouds_yaml_entry(
    auth_url: str, region_name: str, user_name: str, password: str, project_name: str
) -> dict[str, Any]:
    """One cloud of a ``clouds.yaml``: a default-domain user on a project."""
    return {
        "auth": {
            "auth_url": auth_url,
            "username": user_name,
            "password": password,
            "project_name": project_name,
            "user_domain_id": DEFAULT_DOMAIN,
            "project_domain_id": DEFAULT_DOMAIN,
        },
        "region_name": region_name,
        "interface": "public",
        "identity_api_version": 3,
    }


def project_counts(conn: openstack.connection.Connection, project_id: str) -> dict[str, int]:
    """What a project holds, by kind, as ``conn`` (one of its members) sees it: to show
    that a build's delete, or rollback, left it as it was (its default security group
    not counted)."""
    network = conn.network
    project = {"project_id": project_id}
    return {
        "servers": len(list(conn.compute.servers())),
        "volumes": len(list(conn.block_storage.volumes())),
        "networks": len(list(network.networks(**project))),
        "subnets": len(list(network.subnets(**project))),
        "routers": len(list(network.routers(**project))),
        "ports": len(list(network.ports(**project))),
        "floating_ips": len(list(network.ips(**project))),
        "security_groups": len(
            [g for g in network.security_groups(**project) if g.name != "default"]
        ),
        "key_pairs": len(list(conn.compute.keypairs())),
    }


def _get(session: ks_session.Session, service_type: str, path: str) -> Any:
    """GET on a service as the session's user; None on any error (a readiness probe)."""
    headers = {"OpenStack-API-Version": "placement 1.0"} if service_type == "placement" else {}
    try:
        response = session.get(
            path,
            endpoint_filter={
                "service_type": service_type,
                "interface": "public",
                "region_name": REGION,
            },
            headers=headers,
            raise_exc=False,
        )
    except Exception:  # connection refused or reset: not ready yet
        return None
    return response.json() if response.status_code == 200 else None


# -- the dev command


def _state_path(directory: Path) -> Path:
    return directory / _STATE


def ready_access(directory: Path) -> dict[str, Any] | None:
    """What the dev command serving ``directory`` wrote once its cloud was up: ``pid``
    (the command's), ``auth_url``, ``region_name`` and ``admin_password``; None
    until then (and again once it stops)."""
    try:
        access = json.loads((directory / _READY).read_text())
    except (FileNotFoundError, ValueError):  # not up yet, or being written
        return None
    return access if isinstance(access, dict) else None


def _up(args: argparse.Namespace) -> int:
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    directory: Path = args.dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        earlier = Daemon.from_dict(json.loads(_state_path(directory).read_text()))
        if earlier.alive:
            print(f"a mini cloud is already up in {directory} (pid {earlier.pid})", file=sys.stderr)
            return 1
    me = adopt("mini-cloud-up", os.getpid(), directory / "up.log")
    _state_path(directory).write_text(json.dumps(me.to_dict()))
    ready = directory / _READY
    ready.unlink(missing_ok=True)  # an earlier run's, killed before it could remove it
    cloud = MiniCloud(directory, venv=args.venv)
    try:
        cloud.start(timeout_s=args.timeout)
        if args.octavia:
            cloud.start_octavia()
        clouds_yaml = cloud.write_clouds_yaml(
            directory / "clouds.yaml",
            {
                _ADMIN_CLOUD: cloud.clouds_yaml_entry(
                    ADMIN_USER, cloud.admin_password, ADMIN_PROJECT
                )
            },
        )
        openrc = directory / "openrc"
        write_private(
            openrc,
            f"export OS_AUTH_URL={cloud.auth_url}\nexport OS_USERNAME={ADMIN_USER}\n"
            f"export OS_PASSWORD={cloud.admin_password}\nexport OS_PROJECT_NAME={ADMIN_PROJECT}\n"
            f"export OS_USER_DOMAIN_ID={DEFAULT_DOMAIN}\n"
            f"export OS_PROJECT_DOMAIN_ID={DEFAULT_DOMAIN}\n"
            f"export OS_REGION_NAME={REGION}\nexport OS_IDENTITY_API_VERSION=3\n",
        )
        access = {
            "pid": os.getpid(),
            "auth_url": cloud.auth_url,
            "region_name": cloud.region_name,
            "admin_password": cloud.admin_password,
        }
        write_private(ready, json.dumps(access))
        print(
            f"mini cloud up: OS_AUTH_URL={cloud.auth_url} OS_USERNAME={ADMIN_USER} "
            f"OS_PASSWORD={cloud.admin_password} OS_PROJECT_NAME={ADMIN_PROJECT}\n"
            f"  clouds.yaml: {clouds_yaml} (cloud {_ADMIN_CLOUD}); openrc: {openrc}\n"
            f"  stop with Ctrl-C or: python -m harness.mini_cloud down --dir {directory}",
            flush=True,
        )
        while not stopping.wait(1.0):
            if not cloud.is_running:
                dead = [name for name in cloud.process_names[1:] if not cloud._daemon(name).alive]
                LOG.error("processes exited: %s\n%s", dead, cloud._all_log_tails())
                return 1
        return 0
    except (MiniCloudError, KeystoneError) as exc:
        LOG.error("%s", exc)
        return 1
    finally:
        ready.unlink(missing_ok=True)
        cloud.stop()
        _state_path(directory).unlink(missing_ok=True)


def _down(args: argparse.Namespace) -> int:
    """SIGTERM the `up` command of ``--dir`` (it stops its cloud) and wait for it to exit."""
    path = _state_path(args.dir.resolve())
    try:
        up = Daemon.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        print(f"no mini cloud is up in {args.dir}", file=sys.stderr)
        return 0
    if up.alive:  # the same process: its start time matches
        os.kill(up.pid, signal.SIGTERM)
        if not wait_until(lambda: not up.alive, _STOP_TIMEOUT_S * 3):
            print(f"the `up` command (pid {up.pid}) is still running", file=sys.stderr)
            return 1
    path.unlink(missing_ok=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.mini_cloud",
        description="A real OpenStack (Keystone, Neutron, Nova, Placement, Glance, Cinder) on "
        "127.0.0.1 for tests and development.",
    )
    parser.add_argument(
        "--ensure-venv",
        action="store_true",
        help="make the OpenStack venv and the template databases (once per machine)",
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=None,
        help="default: $COOL_OPENSTACK_VENV or <repo>/.venv-openstack",
    )
    commands = parser.add_subparsers(dest="command")
    up = commands.add_parser("up", help="start a cloud and serve until Ctrl-C or `down`")
    up.add_argument("--dir", type=Path, required=True, help="the cloud's directory")
    up.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for it")
    up.add_argument("--octavia", action="store_true", help="start Octavia (no-op drivers) too")
    down = commands.add_parser("down", help="stop the cloud `up` serves from --dir")
    down.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.ensure_venv:
        venv = ensure_venv(args.venv)
        ensure_template(venv)
        octavia.ensure_template(venv, service_env(venv))
    if args.command == "up":
        return _up(args)
    if args.command == "down":
        return _down(args)
    if not args.ensure_venv:
        parser.print_usage(sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
