"""A real Keystone on loopback, from PyPI ``keystone``, for tests and a local cloud.

Nothing is faked: gunicorn serves ``keystone.wsgi.api:application`` from
Keystone's own virtual environment (:mod:`harness.keystone.venv`) over
SQLite (WAL mode) with fernet tokens. A server's directory starts as a copy
of a template bootstrapped once per machine (:mod:`harness.keystone.template`);
its test helpers (:meth:`KeystoneServer.create_user`, :meth:`KeystoneServer.token`,
...) are the bootstrap admin's, speaking Keystone's REST API
(:mod:`harness.keystone.admin`). A server's directory holds::

    <base_dir>/keystone.conf      generated configuration (OS_KEYSTONE_CONFIG_FILES)
    <base_dir>/gunicorn.conf.py   gunicorn's settings (a bare `gunicorn` reads it)
    <base_dir>/keystone.db        SQLite database, journal_mode=WAL
    <base_dir>/fernet-keys/       [fernet_tokens], [fernet_receipts] and [credential]
    <base_dir>/fernet-receipts/   key repositories, copied from the template (so an
    <base_dir>/credential-keys/   admin token of one copy also validates at another)
    <base_dir>/admin-password     the bootstrap admin's password
    <base_dir>/keystone.log       Keystone's log (the server's and keystone-manage's)
    <base_dir>/gunicorn.log       gunicorn's stdout and stderr, access log included

Keystone's oslo.config parses ``sys.argv``: started as ``gunicorn --bind ...``
every worker dies on "unrecognized arguments" while the master keeps the port
open. Hence the bare ``gunicorn`` and its ``gunicorn.conf.py``.

Run one in the foreground (a local dev cloud)::

    python -m harness.keystone --ensure-venv --port 5000 --dir /var/tmp/cool-keystone
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from keystoneauth1 import session as ks_session

from harness.keystone.admin import ADMIN_PROJECT, ADMIN_USER, DEFAULT_DOMAIN, KeystoneAdmin
from harness.keystone.errors import (
    KeystoneError,
    KeystoneNotInstalledError,
    KeystoneTimeoutError,
)
from harness.keystone.template import (
    bootstrap,
    copy_template,
    default_template_dir,
    ensure_template,
    keystone_env,
    run_all,
    write_config,
)
from harness.keystone.venv import INSTALL_HINT, VENV_ENV_VAR, default_venv_path, ensure_venv
from harness.zookeeper import HOST, free_port

LOG = logging.getLogger(__name__)

_POLL_INTERVAL_S = 0.05
_PROBE_TIMEOUT_S = 1.0
_LOG_TAIL_LINES = 40
_PORT_MOVES = 2


class KeystoneServer:
    """One Keystone (gunicorn, 1 worker, 1 thread) on 127.0.0.1, with test helpers.

    The base directory is a temporary one the server owns (removed by
    :meth:`stop` unless ``keep``) or the caller's, kept across runs: a
    directory that already holds a database keeps it, its users and its keys.

    The test helpers are those of :attr:`admin`, a :class:`KeystoneAdmin` of
    this server (its docstring says how :meth:`expiring_token` gets a token
    that keystone itself refuses as expired).
    """

    def __init__(
        self,
        *,
        base_dir: Path | None = None,
        port: int | None = None,
        venv: Path | None = None,
        template_dir: Path | None = None,
        keep: bool = False,
    ) -> None:
        self.port = port if port is not None else free_port()
        self._may_move = port is None
        self.venv = venv or default_venv_path()
        self.template_dir = template_dir or default_template_dir()
        self.keep = keep
        self._owns_dir = base_dir is None
        self._base_dir = base_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._admin: KeystoneAdmin | None = None
        self._lock = threading.Lock()

    # -- where things are

    @property
    def base_url(self) -> str:
        """The unversioned endpoint, as the catalog names it ("http://127.0.0.1:PORT")."""
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """The v3 API ("http://127.0.0.1:PORT/v3"): an ``auth_url``."""
        return f"{self.base_url}/v3"

    @property
    def base_dir(self) -> Path:
        if self._base_dir is None:
            self._base_dir = Path(tempfile.mkdtemp(prefix="cool-keystone-"))
        return self._base_dir

    @property
    def db_path(self) -> Path:
        return self.base_dir / "keystone.db"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "keystone.log"

    @property
    def gunicorn_log_path(self) -> Path:
        return self.base_dir / "gunicorn.log"

    @property
    def admin_password(self) -> str:
        """The password of ``admin`` (project ``admin``, domain ``default``)."""
        return (self.base_dir / "admin-password").read_text()

    @property
    def pid(self) -> int | None:
        """gunicorn's master, leader of the server's process group."""
        return self._process.pid if self._process is not None else None

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __repr__(self) -> str:
        return f"<KeystoneServer {self.base_url} pid={self.pid}>"

    # -- life cycle

    def start(self, *, timeout_s: float = 60.0) -> Self:
        """Copy the template (made first if missing), serve, point the catalog here.

        ``bootstrap`` runs while gunicorn boots its worker. On any failure every
        process started is stopped before the error propagates.
        """
        for name in ("gunicorn", "keystone-manage"):
            if not (self.venv / "bin" / name).is_file():
                raise KeystoneNotInstalledError(
                    f"{self.venv / 'bin' / name} is missing: run `{INSTALL_HINT}`"
                )
        with self._lock:
            if self.is_running:
                raise KeystoneError(f"{self!r} is already running")
            try:
                self._prepare_dir()  # the template, once per machine, has its own timeouts
                deadline = time.monotonic() + timeout_s
                config_path = write_config(self.base_dir)
                self._serve(deadline)
                run_all([bootstrap(self.venv, config_path, self.admin_password, self.base_url)])
                self._wait_answering(deadline, timeout_s)
                self.admin_session().get_token()  # the database, keys and password all work
                self._may_move = False  # restarts keep their port, as the catalog says
            except BaseException:
                self._terminate(10.0)
                raise
        return self

    def _prepare_dir(self) -> None:
        if self.db_path.is_file():
            return  # a kept directory: its database, keys and password stay
        copy_template(ensure_template(self.venv, self.template_dir), self.base_dir)

    def _write_gunicorn_config(self) -> None:
        (self.base_dir / "gunicorn.conf.py").write_text(
            f"""\
# Written by harness.keystone.server; a bare `gunicorn` reads it from its working directory.
wsgi_app = "keystone.wsgi.api:application"
bind = "{HOST}:{self.port}"
workers = 1
# One request at a time. On SQLite, a deferred transaction that read and then writes
# fails at once with "database is locked" when another thread wrote in between (a
# domain delete met a parallel build's user create: a 500, and the in-memory cache
# then still held the half-deleted domain). Requests are short (bcrypt at its minimum
# cost, tokens cached), so serving them in single file costs little.
threads = 1
control_socket_disable = True  # gunicorn 27 otherwise shares one socket path across servers
graceful_timeout = 5
accesslog = "-"
errorlog = "-"
"""
        )

    def _serve(self, deadline: float) -> None:
        """Start gunicorn and wait until its master listens, moving port if it was taken."""
        moves_left = _PORT_MOVES
        while True:
            self._write_gunicorn_config()
            self._spawn()
            if self._wait_listening(deadline):
                return
            if not (self._may_move and moves_left and "in use" in self.log_tail()):
                status = self._process.returncode if self._process else None
                raise KeystoneTimeoutError(
                    f"gunicorn exited with status {status} before listening on {self.base_url}\n"
                    f"{self.log_tail()}"
                )
            moves_left -= 1
            LOG.warning("port %d was taken before gunicorn bound it", self.port)
            self.port = free_port()

    def _spawn(self) -> None:
        command: list[str | Path] = [self.venv / "bin" / "gunicorn"]
        setpriv = shutil.which("setpriv")
        if setpriv is not None:  # gunicorn dies with the thread that started it, even on SIGKILL
            command = [setpriv, "--pdeathsig", "KILL", *command]
        LOG.info("starting Keystone on %s in %s", self.base_url, self.base_dir)
        with self.gunicorn_log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                cwd=self.base_dir,
                env=keystone_env(self.base_dir / "keystone.conf"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, which stop() kills whole
            )

    def _wait_listening(self, deadline: float) -> bool:
        """True once gunicorn logs its bind; False if it exits first."""
        assert self._process is not None
        listening = f"Listening at: {self.base_url} ({self._process.pid})"
        while True:
            with contextlib.suppress(OSError):
                if listening in self.gunicorn_log_path.read_text("utf-8", "replace"):
                    return True
            if self._process.poll() is not None:
                return False
            if time.monotonic() >= deadline:
                raise KeystoneTimeoutError(f"gunicorn not listening in time\n{self.log_tail()}")
            time.sleep(_POLL_INTERVAL_S)

    def _wait_answering(self, deadline: float, timeout_s: float) -> None:
        while not self._answers():
            if not self.is_running:
                raise KeystoneTimeoutError(f"Keystone {self.base_url} exited\n{self.log_tail()}")
            if time.monotonic() >= deadline:
                raise KeystoneTimeoutError(
                    f"Keystone {self.url} not answering after {timeout_s:.1f}s\n{self.log_tail()}"
                )
            time.sleep(_POLL_INTERVAL_S)

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=_PROBE_TIMEOUT_S)
        try:
            connection.request("GET", "/v3")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Stop the whole process group; remove an owned directory unless ``keep``.

        Safe to call twice, or after a failed :meth:`start`.
        """
        with self._lock:
            self._terminate(timeout_s)
        if self._owns_dir and not self.keep and self._base_dir is not None:
            shutil.rmtree(self._base_dir, ignore_errors=True)
            self._base_dir = None

    def _terminate(self, timeout_s: float) -> None:
        """SIGTERM the group, SIGKILL it after ``timeout_s``; reap the master."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        process, self._process = self._process, None
        if process is None:
            return
        pgid = process.pid  # start_new_session: the master leads its group
        _signal_group(pgid, signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            LOG.warning("Keystone %s ignored SIGTERM for %.0fs", self.base_url, timeout_s)
            _signal_group(pgid, signal.SIGKILL)
            process.wait()
        # The master reaps its worker before it exits; one it left behind is killed here.
        if not _wait_group_gone(pgid, timeout_s):
            _signal_group(pgid, signal.SIGKILL)
            if not _wait_group_gone(pgid, timeout_s):
                # An orphaned worker's zombie lasts until PID 1 reaps it (late, here).
                LOG.warning("processes of Keystone %s outlived SIGKILL (zombies?)", self.base_url)

    def __enter__(self) -> Self:
        if not self.is_running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of gunicorn's and Keystone's logs, for error messages."""
        tails = []
        for path in (self.gunicorn_log_path, self.log_path):
            try:
                text = path.read_text("utf-8", "replace")
            except OSError as exc:
                tails.append(f"(no log at {path}: {exc})")
                continue
            tail = "\n".join(text.splitlines()[-lines:])
            tails.append(f"--- last {lines} lines of {path} ---\n{tail}")
        return "\n".join(tails)

    # -- helpers for tests: each is the same-named method of KeystoneAdmin, documented there

    @property
    def admin(self) -> KeystoneAdmin:
        """The admin of this server, logged in at first use (closed by stop())."""
        if self._admin is None:
            self._admin = KeystoneAdmin(self.url, self.admin_password)
        return self._admin

    def admin_session(self) -> ks_session.Session:
        """A keystoneauth1 session as ``admin`` on project ``admin`` (closed by stop())."""
        return self.admin.session()

    def create_project(self, name: str) -> str:
        return self.admin.create_project(name)

    def project_id(self, name: str) -> str | None:
        return self.admin.project_id(name)

    def role_id(self, name: str) -> str:
        return self.admin.role_id(name)

    def create_user(self, name: str, password: str, project_id: str, roles: Sequence[str]) -> str:
        return self.admin.create_user(name, password, project_id, roles)

    def create_service_user(
        self, name: str, password: str, roles: Sequence[str] = ("service", "admin")
    ) -> str:
        return self.admin.create_service_user(name, password, roles)

    def token(self, username: str, password: str, project_id: str) -> str:
        return self.admin.token(username, password, project_id)

    def validate(self, token: str, *, allow_expired: bool = False) -> dict[str, Any] | None:
        return self.admin.validate(token, allow_expired=allow_expired)

    def revoke(self, token: str) -> None:
        self.admin.revoke(token)

    def expiring_token(
        self, username: str, password: str, project_id: str, *, lifetime_s: float = 2.0
    ) -> str:
        return self.admin.expiring_token(username, password, project_id, lifetime_s=lifetime_s)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _wait_group_gone(pgid: int, timeout_s: float) -> bool:
    """True once no process is left in the group (a zombie still counts)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL_S)


def main(argv: Sequence[str] | None = None) -> int:
    """Make Keystone's venv, and/or run one server in the foreground until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.keystone",
        description="Make Keystone's virtual environment (--ensure-venv) and/or run a Keystone "
        "on 127.0.0.1 until SIGTERM/SIGINT, printing its URL and admin password once it serves.",
    )
    parser.add_argument("--ensure-venv", action="store_true", help="create/update the venv")
    parser.add_argument(
        "--venv", type=Path, default=None, help=f"default: ${VENV_ENV_VAR} or <repo>/.venv-keystone"
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="base directory, kept across runs (default: a temporary one, removed on exit)",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    venv = args.venv or default_venv_path()
    if args.ensure_venv:
        ensure_venv(venv)
        if args.port is None and args.dir is None:
            return 0

    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    server = KeystoneServer(base_dir=args.dir, port=args.port, venv=venv)
    try:
        server.start(timeout_s=args.timeout)
        print(
            f"OS_AUTH_URL={server.url} OS_USERNAME={ADMIN_USER} OS_PROJECT_NAME={ADMIN_PROJECT} "
            f"OS_USER_DOMAIN_ID={DEFAULT_DOMAIN} OS_PROJECT_DOMAIN_ID={DEFAULT_DOMAIN} "
            f"OS_PASSWORD={server.admin_password}",
            flush=True,
        )
        while not stopping.wait(0.5):
            if not server.is_running:
                LOG.error("Keystone exited unexpectedly\n%s", server.log_tail())
                return 1
        return 0
    except KeystoneError as exc:
        LOG.error("%s", exc)
        return 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
