"""The whole of cool on one machine: a ZooKeeper, cool-api (http_basic on
127.0.0.1) and cool-workers on the simulated cloud, in one directory.

``up`` starts what is not running and reuses what is; ``down`` stops what
``up`` started, and only that (each process is recorded with its start time,
see :mod:`cool.local.daemons`). Everything lives in the directory: the
configuration, the generated password, ``clouds.yaml`` for the CLI, logs,
ZooKeeper's data and the simulated cloud. The README's run command and the
end-to-end tests use this same module.

    python -m cool.local.system up [--dir D] [--workers N]
    python -m cool.local.system status | env | down
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

from cool.errors import CoolError
from cool.local.daemons import Daemon, adopt, spawn, wait_until
from cool.local.zookeeper import ZooKeeperServer, free_ports

CLOUD = "cool-local"
USER = "demo"
PROJECT = "demo"
DEFAULT_DIR = Path(".cool-local")
_STATE = "state.json"
_CHECKOUT = Path(__file__).resolve().parents[2]  # where scripts/ is, in a checkout
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 30.0
_READY = re.compile(r"^cool-worker \S+ ready$", re.MULTILINE)


class LocalSystemError(CoolError):
    code = "cool.local.system"


class LocalSystem:
    def __init__(
        self, directory: Path, *, workers: int = 2, sim_latency_s: float = 1.5, api_workers: int = 2
    ) -> None:
        self.directory = directory.resolve()
        self.workers = workers
        self.sim_latency_s = sim_latency_s
        self.api_workers = api_workers
        self.state = self._load()

    # -- where things are

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
        _write_private(
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
        self._configure()
        running = {n for n, d in self.daemons().items() if d.alive}
        started = []
        if "zookeeper" not in running:
            self._start_zookeeper()
            started.append("zookeeper")
        if "api" not in running:
            self._start_api()
            started.append("api")
        for name in self.worker_names():
            if name not in running:
                self._start_worker(name)
                started.append(name)
        return started

    def _configure(self) -> None:
        """Ports and password once, kept across runs (a port taken by someone else
        while ours was down is replaced); files written every time."""
        if "password" not in self.state:
            self.state["password"] = secrets.token_urlsafe(18)
        running = {n for n, d in self.daemons().items() if d.alive}
        for key, user in (("zk_port", "zookeeper"), ("api_port", "api")):
            port = self.state.get(key)
            if user not in running and (port is None or not _bindable(int(port))):
                taken = {self.state.get("zk_port"), self.state.get("api_port")}
                self.state[key] = next(p for p in free_ports(3) if p not in taken)
        self._save()
        htpasswd = self.directory / "htpasswd"
        hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt()).decode()
        _write_private(htpasswd, f"{USER}:{hashed}\n")
        (self.directory / "logs").mkdir(exist_ok=True)
        _write_private(
            self.config_path,
            f"""# Written by cool.local.system: a whole cool on this machine, for trying it out.
[zookeeper]
hosts = {self.zk_hosts}
root = /cool
session_timeout = 5

[worker]
claim_grace = 0.5

[sim]
database = {self.directory / "sim.sqlite"}
latency = {self.sim_latency_s:g}

[api]
bind_host = 127.0.0.1
bind_port = {self.state["api_port"]}
auth_strategy = http_basic
workers = {self.api_workers}
threads = 16

[http_basic]
htpasswd_file = {htpasswd}
user = {USER}:{PROJECT}:admin
""",
        )
        _write_private(
            self.clouds_yaml,
            f"""# Written by cool.local.system. Use: export OS_CLIENT_CONFIG_FILE={self.clouds_yaml}
clouds:
  {CLOUD}:
    auth_type: http_basic
    auth:
      username: {USER}
      password: {self.password}
      endpoint: {self.url}
""",
        )
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in self.environment().items())
        venv_bin = shlex.quote(str(Path(sys.executable).parent))
        self.env_file.write_text(
            f'# source this file to use the local cool\n{exports}export PATH={venv_bin}:"$PATH"\n'
        )

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
        daemon = spawn("api", command, self.directory / "logs" / "api.log")
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
        log = self.directory / "logs" / f"{name}.log"
        with contextlib.suppress(FileNotFoundError):
            log.unlink()  # "ready" below must be this run's
        daemon = spawn(name, command, log)
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
        stopped = []
        daemons = self.daemons()
        workers = sorted(n for n in daemons if n.startswith("worker-"))
        for name in [*workers, "api", "zookeeper"]:
            daemon = daemons.get(name)
            if daemon is None:
                continue
            if daemon.stop(timeout_s=_STOP_TIMEOUT_S):
                stopped.append(name)
            del self.state["daemons"][name]
            self._save()
        return stopped

    def status(self) -> dict[str, bool]:
        names = ["zookeeper", "api", *self.worker_names()]
        daemons = self.daemons()
        return {n: n in daemons and daemons[n].alive for n in names}

    def guide(self) -> str:
        """What a newcomer reads once it runs: where things are, how to use and stop it."""
        where = shlex.quote(str(self.directory))
        stop = shlex.quote(str(_CHECKOUT / "scripts" / "stop.sh"))
        if self.directory != (_CHECKOUT / DEFAULT_DIR).resolve():
            stop = f"COOL_LOCAL_DIR={where} {stop}"
        return f"""
cool is running on this machine (the cloud is SIMULATED: nothing real is built):
  cool-api   {self.url}  (http_basic: user {USER}, password in {where}/clouds.yaml)
  ZooKeeper  {self.zk_hosts}
  workers    {self.workers}, on the sim provider; logs in {where}/logs/

Use it from this shell:
  source {where}/env
  cool list
  cool submit examples/multi-tier.yaml --wait
  cool events <id> --follow          # Ctrl-C stops following, not the build
  cool resources <id>
  cool workers                       # kill -9 one mid-build: another takes over
  cool delete <id> --wait

Stop it: {stop}
(run scripts/run.sh again to start what stopped; the local ZooKeeper has no ACLs:
this is for a machine of your own, not a shared one)"""

    def __enter__(self) -> Self:
        self.up()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _write_private(path: Path, text: str) -> None:
    """Readable by the owner only, and replaced whole (a running cool-api never reads
    half an htpasswd file)."""
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    temporary.replace(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cool.local.system",
        description="Run a whole cool on this machine: ZooKeeper, cool-api, workers on the sim.",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get("COOL_LOCAL_DIR", DEFAULT_DIR)),
        help="where its configuration, logs and data live (env COOL_LOCAL_DIR; "
        "default .cool-local)",
    )
    parser.add_argument("--workers", type=int, default=2, help="cool-workers to run (default 2)")
    parser.add_argument(
        "--sim-latency",
        type=float,
        default=1.5,
        help="seconds a simulated resource takes to be ready (default 1.5)",
    )
    parser.add_argument("action", choices=["up", "down", "status", "env", "guide"])
    args = parser.parse_args(argv)
    system = LocalSystem(args.dir, workers=args.workers, sim_latency_s=args.sim_latency)
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
        else:
            for key, value in system.environment().items():
                print(f"export {key}={shlex.quote(value)}")
    except LocalSystemError as exc:
        print(f"cool.local.system: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
