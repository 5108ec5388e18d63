"""The whole of cool on one machine: a ZooKeeper, cool-api and cool-workers, in
one directory, on one of two clouds:

- ``sim`` (the default): the simulated cloud, and cool-api with http_basic auth;
- ``openstack`` (``--openstack``): a real, small OpenStack (the mini cloud, see
  :mod:`harness.system.cloud`), cool-api with Keystone auth making trusts,
  and the workers on the openstack provider, deployed as in production.

``up`` starts what is not running and reuses what is; ``down`` stops what
``up`` started, and only that (each process is recorded with its start time,
see :mod:`harness.daemons`). Everything lives in the directory: the
configuration, the generated passwords, ``clouds.yaml`` for the CLI,
``environment.yaml`` (what the examples need from this cloud), logs,
ZooKeeper's data and the cloud's. A directory holds a system on one cloud
only; each cloud has its own default directory. The README's run command and
the end-to-end tests use this same module.

    python -m harness.system up [--openstack] [--dir D] [--workers N]
    python -m harness.system status | env | guide | where | down
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import secrets
import shlex
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Self

import bcrypt
import yaml

from cool.errors import CoolError
from harness.daemons import Daemon, adopt, spawn, wait_until
from harness.files import write_private
from harness.mini_cloud.cloud import ready_access
from harness.system import cloud as system_cloud
from harness.system.cloud import CloudAccess
from harness.zookeeper import ZooKeeperServer, free_ports

CLOUD = "cool-local"
USER = "demo"
PROJECT = "demo"
PROVIDERS = ("sim", "openstack")
DEFAULT_DIRS = {"sim": Path(".cool-local"), "openstack": Path(".cool-local-openstack")}
_STATE = "state.json"
_CHECKOUT = Path(__file__).resolve().parents[2]  # where scripts/ is, in a checkout
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 30.0
_READY = re.compile(r"^cool-worker \S+ ready$", re.MULTILINE)


class LocalSystemError(CoolError):
    code = "harness.system"


class LocalSystem:
    """``provider`` is what :meth:`up` runs on (None: what the directory holds, else
    ``sim``); a directory holding a system on another one is refused."""

    def __init__(
        self,
        directory: Path,
        *,
        workers: int = 2,
        sim_latency_s: float = 1.5,
        api_workers: int = 2,
        provider: str | None = None,
    ) -> None:
        self.directory = directory.resolve()
        self.workers = workers
        self.sim_latency_s = sim_latency_s
        self.api_workers = api_workers
        self.state = self._load()
        self._provider = provider

    # -- where things are

    @property
    def provider(self) -> str:
        return self._provider or str(self.state.get("provider", "sim"))

    @property
    def on_openstack(self) -> bool:
        return self.provider == "openstack"

    @property
    def cloud_dir(self) -> Path:
        return self.directory / "cloud"

    @property
    def environment_file(self) -> Path:
        """A Heat environment with what the examples need from this cloud."""
        return self.directory / "environment.yaml"

    @property
    def config_path(self) -> Path:
        return self.directory / "cool.conf"

    @property
    def clouds_yaml(self) -> Path:
        return self.directory / "clouds.yaml"

    @property
    def env_file(self) -> Path:
        return self.directory / "env"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.state['api_port']}"

    @property
    def zk_hosts(self) -> str:
        return f"127.0.0.1:{self.state['zk_port']}"

    @property
    def password(self) -> str:
        return str(self.state["password"])

    def environment(self) -> dict[str, str]:
        """What the ``cool`` CLI needs to talk to this system."""
        return {"OS_CLIENT_CONFIG_FILE": str(self.clouds_yaml), "OS_CLOUD": CLOUD}

    def daemons(self) -> dict[str, Daemon]:
        return {n: Daemon.from_dict(d) for n, d in self.state.get("daemons", {}).items()}

    def worker_names(self) -> list[str]:
        return [f"worker-{i}" for i in range(1, self.workers + 1)]

    # -- state

    def _load(self) -> dict:
        try:
            return json.loads((self.directory / _STATE).read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise LocalSystemError(f"cannot read {self.directory / _STATE}: {exc}") from None

    def _save(self) -> None:
        write_private(
            self.directory / _STATE, json.dumps(self.state, indent=2, sort_keys=True) + "\n"
        )

    def _record(self, daemon: Daemon) -> None:
        self.state.setdefault("daemons", {})[daemon.name] = daemon.to_dict()
        self._save()

    # -- up

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One up or down at a time per directory (two run.sh at once, or run and stop)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)  # the password and the htpasswd file are in it
        with (self.directory / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self.state = self._load()  # as the previous holder left it
            yield

    def up(self) -> list[str]:
        """Start what is not running; the names of what was started."""
        with self._locked():
            return self._up()

    def _up(self) -> list[str]:
        self._claim_directory()
        running = {n for n, d in self.daemons().items() if d.alive}
        started = []
        cloud: CloudAccess | None = None
        if self.on_openstack and system_cloud.NAME not in running:
            # First, and up before our ports are chosen: the cloud picks two dozen
            # free ports of its own, and one of ours, chosen but not bound yet, could
            # be among them.
            self._record(system_cloud.start(self.cloud_dir, self._log(system_cloud.NAME)))
            started.append(system_cloud.NAME)
            cloud = self._cloud_access()
            # a new cloud has new ports and a new Keystone: what runs on the old one moves
            running -= self._stop({"api", *self.worker_names()})
        self._settle_ports()
        if "zookeeper" not in running:
            self._start_zookeeper()
            started.append("zookeeper")
        if self.on_openstack:
            cloud = self._prepare_cloud(cloud or self._cloud_access())
        self._write_files(cloud)
        if "api" not in running:
            self._start_api()
            started.append("api")
        for name in self.worker_names():
            if name not in running:
                self._start_worker(name)
                started.append(name)
        return started

    def _claim_directory(self) -> None:
        recorded = self.state.get("provider")
        if recorded is not None and recorded != self.provider:
            raise LocalSystemError(
                f"{self.directory} holds a local system on the {recorded} cloud, not on "
                f"{self.provider}: give another directory (COOL_LOCAL_DIR), or stop that "
                "one and remove its directory"
            )
        self.state["provider"] = self.provider
        for key in ("password", "service_password"):
            self.state.setdefault(key, secrets.token_urlsafe(18))
        self._save()

    def _cloud_access(self) -> CloudAccess:
        """The running cloud (waiting for it to serve, when it just started)."""
        return system_cloud.access(self.daemons()[system_cloud.NAME], self.cloud_dir)

    def _prepare_cloud(self, cloud: CloudAccess) -> CloudAccess:
        """cool set up in the cloud's Keystone, as it is now (cool-api's port too)."""
        system_cloud.prepare(
            cloud,
            service_password=str(self.state["service_password"]),
            user=USER,
            project=PROJECT,
            password=self.password,
            api_url=self.url,
        )
        return cloud

    def _log(self, name: str) -> Path:
        return self.directory / "logs" / f"{name}.log"

    def _settle_ports(self) -> None:
        """Ports once, kept across runs (a port taken by someone else
        while ours was down is replaced)."""
        running = {n for n, d in self.daemons().items() if d.alive}
        for key, user in (("zk_port", "zookeeper"), ("api_port", "api")):
            port = self.state.get(key)
            if user not in running and (port is None or not _bindable(int(port))):
                taken = {self.state.get("zk_port"), self.state.get("api_port")}
                self.state[key] = next(p for p in free_ports(3) if p not in taken)
        self._save()

    def _write_files(self, cloud: CloudAccess | None) -> None:
        """The configuration, clouds.yaml and the environment, every time (a new
        cloud has new ports)."""
        (self.directory / "logs").mkdir(exist_ok=True)
        write_private(self.config_path, self._config(cloud))
        if cloud is None:
            clouds = {
                "auth_type": "http_basic",
                "auth": {"username": USER, "password": self.password, "endpoint": self.url},
            }
            defaults: dict[str, str] = {}
        else:  # Keystone; the CLI finds cool-api in the catalog
            clouds = cloud.clouds_yaml_entry(USER, self.password, PROJECT)
            defaults = dict(system_cloud.PARAMETERS)
        write_private(
            self.clouds_yaml,
            f"# Written by harness.system. Use: source {self.env_file}\n"
            + yaml.safe_dump({"clouds": {CLOUD: clouds}}, sort_keys=False),
        )
        self.environment_file.write_text(
            "# What the examples need from this cloud that their defaults do not say.\n"
            + yaml.safe_dump({"parameter_defaults": defaults})
        )
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in self.environment().items())
        venv_bin = shlex.quote(str(Path(sys.executable).parent))
        self.env_file.write_text(
            f'# source this file to use the local cool\n{exports}export PATH={venv_bin}:"$PATH"\n'
        )

    def _config(self, cloud: CloudAccess | None) -> str:
        common = f"""# Written by harness.system.local: a whole cool on this machine, to try it out.
[zookeeper]
hosts = {self.zk_hosts}
root = /cool
session_timeout = 5

[signal]
endpoint = {self.url}

[api]
bind_host = 127.0.0.1
bind_port = {self.state["api_port"]}
workers = {self.api_workers}
threads = 16
"""
        if cloud is None:
            htpasswd = self.directory / "htpasswd"
            hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt()).decode()
            write_private(htpasswd, f"{USER}:{hashed}\n")
            return f"""{common}auth_strategy = http_basic

[http_basic]
htpasswd_file = {htpasswd}
user = {USER}:{PROJECT}:admin

[worker]
claim_grace = 0.5

[sim]
database = {self.directory / "sim.sqlite"}
latency = {self.sim_latency_s:g}
"""
        return f"""{common}auth_strategy = keystone

[worker]
claim_grace = 0.5
provider = openstack

{cloud.config(str(self.state["service_password"]))}"""

    def _start_zookeeper(self) -> None:
        server = ZooKeeperServer(
            base_dir=self.directory / "zookeeper",
            port=int(self.state["zk_port"]),
            keep=True,
            die_with_parent=False,
            tick_time_ms=500,
            max_session_timeout_ms=60_000,
        )
        try:
            server.start(timeout_s=_START_TIMEOUT_S)
        except CoolError as exc:
            raise LocalSystemError(f"ZooKeeper did not start: {exc}") from None
        assert server.pid is not None
        self._record(
            adopt(
                "zookeeper",
                server.pid,
                server.log_path,
                reap=lambda: None if server.is_running else 0,
            )
        )

    def _start_api(self) -> None:
        command = [sys.executable, "-m", "cool.cmd.api", "--config-file", str(self.config_path)]
        daemon = spawn("api", command, self._log("api"))
        self._record(daemon)
        if not wait_until(lambda: self._api_healthy() or not daemon.alive, _START_TIMEOUT_S):
            daemon.stop(timeout_s=5)
            raise LocalSystemError(f"cool-api did not answer in time:\n{daemon.log_tail()}")
        if not daemon.alive:
            raise LocalSystemError(f"cool-api exited:\n{daemon.log_tail()}")

    def _api_healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthcheck", timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _start_worker(self, name: str) -> None:
        command = [sys.executable, "-m", "cool.cmd.worker", "--config-file", str(self.config_path)]
        # Appended to: the log of the worker that died stays (log_tail is this run's).
        daemon = spawn(name, command, self._log(name))
        self._record(daemon)

        def ready() -> bool:
            return _READY.search(daemon.log_tail()) is not None or not daemon.alive

        if not wait_until(ready, _START_TIMEOUT_S) or not daemon.alive:
            daemon.stop(timeout_s=5)
            raise LocalSystemError(f"{name} did not start:\n{daemon.log_tail()}")

    # -- down

    def down(self) -> list[str]:
        """Stop what up started (workers first, ZooKeeper last); the names stopped."""
        if not self.directory.is_dir():
            return []
        with self._locked():
            return self._down()

    def _down(self) -> list[str]:
        return sorted(self._stop(set(self.daemons())), key=_stop_order)

    def _stop(self, names: set[str]) -> set[str]:
        """Stop these daemons (those of them recorded); the names of those that ran."""
        stopped = set()
        daemons = self.daemons()
        for name in sorted(names & set(daemons), key=_stop_order):
            timeout = system_cloud.STOP_TIMEOUT_S if name == system_cloud.NAME else _STOP_TIMEOUT_S
            if daemons[name].stop(timeout_s=timeout):
                stopped.add(name)
            del self.state["daemons"][name]
            self._save()
        return stopped

    def status(self) -> dict[str, bool]:
        cloud = [system_cloud.NAME] if self.on_openstack else []
        names = [*cloud, "zookeeper", "api", *self.worker_names()]
        daemons = self.daemons()
        return {n: n in daemons and daemons[n].alive for n in names}

    def guide(self) -> str:
        """What a newcomer reads once it runs: where things are, how to use and stop it."""
        where = shlex.quote(str(self.directory))
        stop = shlex.quote(str(_CHECKOUT / "scripts" / "stop.sh"))
        if self.directory not in {(_CHECKOUT / d).resolve() for d in DEFAULT_DIRS.values()}:
            stop = f"COOL_LOCAL_DIR={where} {stop}"
        run = "scripts/run.sh --openstack" if self.on_openstack else "scripts/run.sh"
        if self.on_openstack:
            access = ready_access(self.cloud_dir) or {}
            what = (
                "cool is running on this machine, on a small real OpenStack: Keystone, Neutron,\n"
                "Nova, Placement, Glance and Cinder (Nova's and Cinder's fake drivers: every API\n"
                "call is real, but servers are not VMs and volumes hold no data):\n"
                f"  Keystone   {access.get('auth_url', '(not running)')}  "
                f"(as the admin: source {where}/cloud/openrc)\n"
                f"  cool-api   {self.url}  (Keystone tokens; in the catalog as "
                "orchestration-cool,\n             and Heat's API as orchestration: "
                "openstack stack list;\n             builds act through trusts to user "
                f"{system_cloud.SERVICE_USER})\n"
            )
            provider = f"the openstack provider; logs in {where}/logs/ and {where}/cloud/"
            user = f"user {USER}, member of project {PROJECT}, password in {where}/clouds.yaml"
        else:
            what = (
                "cool is running on this machine (the cloud is SIMULATED: nothing real is built):\n"
                f"  cool-api   {self.url}  (http_basic: user {USER}, password in "
                f"{where}/clouds.yaml)\n"
            )
            provider = f"the sim provider; logs in {where}/logs/"
            user = f"user {USER}"
        return f"""
{what}  ZooKeeper  {self.zk_hosts}
  workers    {self.workers}, on {provider}

Use it from this shell ({user}):
  source {where}/env
  cool list
  cool submit examples/multi-tier.yaml --parameter-file {where}/environment.yaml --wait
  cool events <id> --follow          # Ctrl-C stops following, not the build
  cool resources <id>
  cool workers                       # kill -9 one mid-build: another takes over
  cool delete <id> --wait

Stop it: {stop}
(run {run} again to start what stopped; the local ZooKeeper has no ACLs:
this is for a machine of your own, not a shared one)"""

    def __enter__(self) -> Self:
        self.up()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()


def _stop_order(name: str) -> tuple[int, str]:
    """Workers first (they call the others), then cool-api, ZooKeeper, the cloud."""
    ranks = {"api": 1, "zookeeper": 2, system_cloud.NAME: 3}
    return ranks.get(name, 0), name


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.system",
        description="Run a whole cool on this machine: ZooKeeper, cool-api and workers, on "
        "the simulated cloud or on a small real OpenStack.",
    )
    parser.add_argument(
        "--openstack",
        action="store_true",
        help="on a real OpenStack started here (the mini cloud), with Keystone and trusts",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where its configuration, logs and data live (env COOL_LOCAL_DIR; default "
        f"{DEFAULT_DIRS['sim']}, or {DEFAULT_DIRS['openstack']} with --openstack)",
    )
    parser.add_argument("--workers", type=int, default=2, help="cool-workers to run (default 2)")
    parser.add_argument(
        "--sim-latency",
        type=float,
        default=float(os.environ.get("COOL_SIM_LATENCY", "1.5")),
        help="seconds a simulated resource takes to be ready (env COOL_SIM_LATENCY; "
        "default 1.5, slow enough to watch a build)",
    )
    parser.add_argument("action", choices=["up", "down", "status", "env", "guide", "where"])
    args = parser.parse_args(argv)
    provider = "openstack" if args.openstack else "sim"
    directory = args.dir or Path(os.environ.get("COOL_LOCAL_DIR", DEFAULT_DIRS[provider]))
    system = LocalSystem(
        directory,
        workers=args.workers,
        sim_latency_s=args.sim_latency,
        provider=provider if args.action == "up" else None,
    )
    try:
        if args.action == "up":
            started = system.up()
            reused = [n for n in system.status() if n not in started]
            for name in started:
                print(f"started {name}")
            for name in reused:
                print(f"running {name} (reused)")
            print(f"cool-api at {system.url}, ZooKeeper at {system.zk_hosts}")
        elif args.action == "down":
            stopped = system.down()
            print("stopped " + ", ".join(stopped) if stopped else "nothing was running")
        elif args.action == "status":
            states = system.status()
            for name, alive in states.items():
                print(f"{name}: {'running' if alive else 'stopped'}")
            return 0 if all(states.values()) else 3
        elif args.action == "guide":
            print(system.guide())
        elif args.action == "where":
            print(system.directory)
        else:
            for key, value in system.environment().items():
                print(f"export {key}={shlex.quote(value)}")
    except CoolError as exc:  # its own, and the cloud's (system_cloud.LocalCloudError)
        print(f"harness.system.local: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
