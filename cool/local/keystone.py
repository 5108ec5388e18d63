"""A real Keystone on loopback, from PyPI ``keystone``, for tests and a local cloud.

Keystone runs in a virtual environment of its own (default
``<repo>/.venv-keystone``, or ``$COOL_KEYSTONE_VENV``) so that its pins
never fight cool's; :func:`ensure_venv` makes it. Nothing is faked: gunicorn
serves ``keystone.wsgi.api:application`` over SQLite (WAL mode) with fernet
tokens, and the helpers below speak Keystone's REST API through keystoneauth1.

Each ``keystone-manage`` command costs ~2.5 s, mostly interpreter start-up,
so ``fernet_setup``, ``credential_setup``, ``db_sync`` and ``bootstrap`` run
once per machine into a template directory
(``<repo>/.cache/keystone-template-<version>/``); each server copies it and
re-runs only ``bootstrap``, to point the catalog at its own port, while
gunicorn boots. A server's directory holds::

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

    python -m cool.local.keystone --ensure-venv --port 5000 --dir /var/tmp/cool-keystone
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import grp
import http.client
import json
import logging
import os
import pwd
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from cool.errors import CoolError
from cool.local.zookeeper import HOST, free_port

LOG = logging.getLogger(__name__)

KEYSTONE_VERSION = "30.0.0"
REQUIREMENTS = (f"keystone=={KEYSTONE_VERSION}", "gunicorn")
REPO = Path(__file__).resolve().parents[2]
VENV_ENV_VAR = "COOL_KEYSTONE_VENV"
ADMIN_USER = "admin"
ADMIN_PROJECT = "admin"
SERVICE_PROJECT = "service"
DEFAULT_DOMAIN = "default"
REGION = "RegionOne"
INSTALL_HINT = "python -m cool.local.keystone --ensure-venv"

_VENV_MARKER = "cool-keystone.json"  # written last by ensure_venv: the venv is complete
_TEMPLATE_MARKER = "template.json"  # written last by the template build
_TEMPLATE_FORMAT = 1  # bump when what the template holds changes
_KEY_REPOSITORIES = {
    "fernet_tokens": "fernet-keys",
    "fernet_receipts": "fernet-receipts",
    "credential": "credential-keys",
}
_MANAGE_TIMEOUT_S = 120.0
_POLL_INTERVAL_S = 0.05
_PROBE_TIMEOUT_S = 1.0
_LOG_TAIL_LINES = 40
_PORT_MOVES = 2


class KeystoneError(CoolError):
    """A local Keystone could not be installed, started, or refused a request."""

    code = "cool.local.keystone"
    title = "Local Keystone problem"


class KeystoneNotInstalledError(KeystoneError):
    """Keystone's virtual environment is missing or incomplete: run :data:`INSTALL_HINT`."""

    code = "cool.local.keystone.not_installed"


class KeystoneTimeoutError(KeystoneError):
    """A server or a keystone-manage command did not finish in time (or died)."""

    code = "cool.local.keystone.timeout"
    retryable = True


def default_venv_path() -> Path:
    """``$COOL_KEYSTONE_VENV``, else ``<repo>/.venv-keystone``; read at each call."""
    return Path(os.environ.get(VENV_ENV_VAR) or REPO / ".venv-keystone")


def default_template_dir() -> Path:
    return REPO / ".cache" / f"keystone-template-{KEYSTONE_VERSION}"


def _venv_marker_text() -> str:
    return json.dumps({"requirements": list(REQUIREMENTS)}, sort_keys=True)


def is_venv_complete(path: Path) -> bool:
    """True when ``ensure_venv`` finished for these requirements (no subprocess: fast)."""
    marker = path / _VENV_MARKER
    return (
        marker.is_file()
        and marker.read_text() == _venv_marker_text()
        and all(
            (path / "bin" / name).is_file() for name in ("python", "gunicorn", "keystone-manage")
        )
    )


def ensure_venv(path: Path | None = None) -> Path:
    """Create Keystone's venv and install :data:`REQUIREMENTS` unless already done.

    Idempotent: a venv whose marker matches is left alone; one left half made
    (an interrupted pip, a broken interpreter) is repaired. Progress goes to stderr.
    """
    path = path or default_venv_path()
    if is_venv_complete(path):
        return path
    python = path / "bin" / "python"
    started = time.monotonic()
    if not (python.is_file() and subprocess.run([python, "-c", ""], check=False).returncode == 0):
        print(f"==> creating Keystone's virtual environment {path}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", path], check=True)
    (path / _VENV_MARKER).unlink(missing_ok=True)
    print(f"==> installing {' '.join(REQUIREMENTS)} into {path}", file=sys.stderr, flush=True)
    # stdout=2: pip's output is progress too, and pytest's sys.stderr may have no fd.
    subprocess.run([python, "-m", "pip", "install", "-q", *REQUIREMENTS], check=True, stdout=2)
    (path / _VENV_MARKER).write_text(_venv_marker_text())
    print(f"==> Keystone's venv ready in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return path


def _keystone_env(config_path: Path) -> dict[str, str]:
    """The environment of Keystone's processes: none of cool's venv, nor a user's OS_* cloud."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OS_") and key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
    env["OS_KEYSTONE_CONFIG_FILES"] = str(config_path)
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"  # eventlet's, on every start
    return env


def _write_config(base_dir: Path) -> Path:
    key_repositories = "".join(
        f"[{section}]\nkey_repository = {base_dir / name}\n"
        for section, name in _KEY_REPOSITORIES.items()
    )
    config = f"""\
[DEFAULT]
log_file = {base_dir / "keystone.log"}
[database]
connection = sqlite:///{base_dir / "keystone.db"}
[token]
provider = fernet
expiration = 3600
[identity]
# bcrypt's minimum cost: passwords stay bcrypt, tokens are issued in ms, not 250 ms.
password_hash_rounds = 4
# bcrypt's own limit; above it keystone warns on every password it hashes.
max_password_length = 72
[cache]
# Validating the caller's token costs ~65 ms a request uncached, ~5 ms cached (devstack
# caches in memcached). In-process memory is exact with one worker, and keystone
# invalidates it itself on revocation.
enabled = true
backend = dogpile.cache.memory
{key_repositories}"""
    path = base_dir / "keystone.conf"
    path.write_text(config)
    return path


def _manage(venv: Path, config_path: Path, *args: str) -> subprocess.Popen[str]:
    """Start one ``keystone-manage`` command (several may run at once)."""
    return subprocess.Popen(
        [venv / "bin" / "keystone-manage", "--config-file", config_path, *args],
        cwd=config_path.parent,
        env=_keystone_env(config_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout_s: float = _MANAGE_TIMEOUT_S) -> None:
    """Wait for a keystone-manage command; fail with its output when it fails or is late."""
    command = " ".join(str(arg) for arg in process.args) if isinstance(process.args, list) else ""
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise KeystoneTimeoutError(f"{command} took over {timeout_s:.0f}s\n{output}") from None
    if process.returncode != 0:
        raise KeystoneError(f"{command} exited with status {process.returncode}\n{output}")


def _run_all(processes: Sequence[subprocess.Popen[str]]) -> None:
    try:
        for process in processes:
            _finish(process)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def _bootstrap(
    venv: Path, config_path: Path, password: str, public_url: str
) -> subprocess.Popen[str]:
    return _manage(
        venv,
        config_path,
        "bootstrap",
        f"--bootstrap-password={password}",
        f"--bootstrap-username={ADMIN_USER}",
        f"--bootstrap-project-name={ADMIN_PROJECT}",
        f"--bootstrap-public-url={public_url}",
        f"--bootstrap-region-id={REGION}",
    )


def _journal_mode(db_path: Path) -> str:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])


def ensure_template(venv: Path, template_dir: Path | None = None) -> Path:
    """A bootstrapped database and key repositories to copy, made once per machine.

    Built in a temporary sibling and renamed into place, so a half-made
    template is never used and two builders racing both end with one.
    """
    template_dir = template_dir or default_template_dir()
    marker = template_dir / _TEMPLATE_MARKER
    if marker.is_file() and json.loads(marker.read_text()).get("format") == _TEMPLATE_FORMAT:
        return template_dir
    shutil.rmtree(template_dir, ignore_errors=True)  # stale format, or left half made
    template_dir.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=f".{template_dir.name}-", dir=template_dir.parent))
    try:
        started = time.monotonic()
        LOG.info("bootstrapping a Keystone template in %s", template_dir)
        config_path = _write_config(build_dir)
        for name in _KEY_REPOSITORIES.values():
            (build_dir / name).mkdir(mode=0o700)
        # WAL before the schema, so that it is the mode of the file everyone copies. In
        # one measured run concurrent writes failed with "database is locked" without it.
        with contextlib.closing(sqlite3.connect(build_dir / "keystone.db")) as db:
            db.execute("PRAGMA journal_mode=WAL")
        owner = ("--keystone-user", pwd.getpwuid(os.getuid()).pw_name)
        group = ("--keystone-group", grp.getgrgid(os.getgid()).gr_name)
        _run_all(
            [
                _manage(venv, config_path, "fernet_setup", *owner, *group),
                _manage(venv, config_path, "credential_setup", *owner, *group),
                _manage(venv, config_path, "db_sync"),
            ]
        )
        password = secrets.token_urlsafe(18)
        _run_all([_bootstrap(venv, config_path, password, f"http://{HOST}:5000")])
        if (mode := _journal_mode(build_dir / "keystone.db")) != "wal":
            raise KeystoneError(f"the template database is in journal mode {mode!r}, not WAL")
        (build_dir / "admin-password").write_text(password)
        (build_dir / _TEMPLATE_MARKER).write_text(
            json.dumps({"format": _TEMPLATE_FORMAT, "keystone": KEYSTONE_VERSION})
        )
        try:
            build_dir.rename(template_dir)
        except OSError:
            if not marker.is_file():
                raise  # not a builder that won the race: something else is wrong
        LOG.info("Keystone template ready in %.1fs", time.monotonic() - started)
        return template_dir
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


class KeystoneServer:
    """One Keystone (gunicorn, 1 worker, 4 threads) on 127.0.0.1, with test helpers.

    The base directory is a temporary one the server owns (removed by
    :meth:`stop` unless ``keep``) or the caller's, kept across runs: a
    directory that already holds a database keeps it, its users and its keys.

    Tokens live ``[token] expiration`` = 3600 s, one value for the whole
    server. :meth:`expiring_token` still gets an honestly expired token from a
    shared server: a token issued through an application credential expires
    with the credential (keystone caps it, CVE-2022-2447), so a credential
    that expires in two seconds yields a real, signed, unrevoked token that
    keystone itself refuses as expired once the time has passed.
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
        self._admin: ks_session.Session | None = None
        self._role_ids: dict[str, str] = {}
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
                config_path = _write_config(self.base_dir)
                self._serve(deadline)
                bootstrap = _bootstrap(self.venv, config_path, self.admin_password, self.base_url)
                _run_all([bootstrap])
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
        template = ensure_template(self.venv, self.template_dir)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        for name in ("keystone.db", "keystone.db-wal", "admin-password"):
            if (template / name).is_file():
                shutil.copy2(template / name, self.base_dir / name)
        for name in _KEY_REPOSITORIES.values():
            shutil.copytree(template / name, self.base_dir / name, dirs_exist_ok=True)

    def _write_gunicorn_config(self) -> None:
        (self.base_dir / "gunicorn.conf.py").write_text(
            f"""\
# Written by cool.local.keystone; a bare `gunicorn` reads it from its working directory.
wsgi_app = "keystone.wsgi.api:application"
bind = "{HOST}:{self.port}"
workers = 1
threads = 4
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
                env=_keystone_env(self.base_dir / "keystone.conf"),
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

    # -- helpers for tests, through Keystone's REST API

    def admin_session(self) -> ks_session.Session:
        """A keystoneauth1 session as ``admin`` on project ``admin`` (closed by stop())."""
        if self._admin is None:
            auth = v3.Password(
                auth_url=self.url,
                username=ADMIN_USER,
                password=self.admin_password,
                project_name=ADMIN_PROJECT,
                user_domain_id=DEFAULT_DOMAIN,
                project_domain_id=DEFAULT_DOMAIN,
            )
            self._admin = ks_session.Session(auth=auth, timeout=30)
        return self._admin

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One call on the v3 API; any status >= 400 is a KeystoneError that quotes keystone."""
        response = self.admin_session().request(self.url + path, method, raise_exc=False, **kwargs)
        if response.status_code >= 400:
            raise KeystoneError(
                f"{method} {path} -> {response.status_code}: {response.text.strip()}"
            )
        return response

    def create_project(self, name: str) -> str:
        """A project in the default domain; returns its id."""
        body = {"project": {"name": name, "domain_id": DEFAULT_DOMAIN}}
        return str(self._request("POST", "/projects", json=body).json()["project"]["id"])

    def project_id(self, name: str) -> str | None:
        """The id of the default domain's project ``name``, or None."""
        params = {"name": name, "domain_id": DEFAULT_DOMAIN}
        projects = self._request("GET", "/projects", params=params).json()["projects"]
        return str(projects[0]["id"]) if projects else None

    def role_id(self, name: str) -> str:
        """The id of a global role ("reader", "member", "manager", "admin", "service")."""
        if name not in self._role_ids:
            roles = self._request("GET", "/roles").json()["roles"]
            self._role_ids = {role["name"]: role["id"] for role in roles}
        try:
            return self._role_ids[name]
        except KeyError:
            raise KeystoneError(f"no role {name!r} (known: {sorted(self._role_ids)})") from None

    def create_user(self, name: str, password: str, project_id: str, roles: Sequence[str]) -> str:
        """A default-domain user holding ``roles`` on ``project_id``; returns its id."""
        role_ids = [self.role_id(role) for role in roles]
        body = {
            "user": {
                "name": name,
                "password": password,
                "domain_id": DEFAULT_DOMAIN,
                "default_project_id": project_id,
            }
        }
        user_id = str(self._request("POST", "/users", json=body).json()["user"]["id"])
        for role_id in role_ids:
            self._request("PUT", f"/projects/{project_id}/users/{user_id}/roles/{role_id}")
        return user_id

    def create_service_user(self, name: str, password: str) -> str:
        """A user with ``service`` and ``admin`` on project ``service``, as
        keystonemiddleware's auth_token logs in with; bootstrap makes no such project."""
        project_id = self.project_id(SERVICE_PROJECT)
        if project_id is None:
            try:
                project_id = self.create_project(SERVICE_PROJECT)
            except KeystoneError:  # another caller created it first (409)
                project_id = self.project_id(SERVICE_PROJECT)
                if project_id is None:
                    raise
        return self.create_user(name, password, project_id, ["service", "admin"])

    def _issue(self, identity: dict[str, Any], project_id: str | None = None) -> requests.Response:
        """POST /v3/auth/tokens (unauthenticated); the token is the X-Subject-Token header."""
        auth: dict[str, Any] = {"identity": identity}
        if project_id is not None:
            auth["scope"] = {"project": {"id": project_id}}
        return self._request("POST", "/auth/tokens", json={"auth": auth}, authenticated=False)

    def _password_token(self, username: str, password: str, project_id: str) -> requests.Response:
        user = {"name": username, "domain": {"id": DEFAULT_DOMAIN}, "password": password}
        return self._issue({"methods": ["password"], "password": {"user": user}}, project_id)

    def token(self, username: str, password: str, project_id: str) -> str:
        """A project-scoped token for a default-domain user (password method)."""
        return str(self._password_token(username, password, project_id).headers["X-Subject-Token"])

    def validate(self, token: str, *, allow_expired: bool = False) -> dict[str, Any] | None:
        """The token's body as the admin validates it, or None when keystone refuses it (404)."""
        response = self.admin_session().get(
            self.url + "/auth/tokens",
            headers={"X-Subject-Token": token},
            params={"allow_expired": "1"} if allow_expired else None,
            raise_exc=False,
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise KeystoneError(f"GET /auth/tokens -> {response.status_code}: {response.text}")
        return dict(response.json()["token"])

    def revoke(self, token: str) -> None:
        """Revoke one token (DELETE /v3/auth/tokens): it stops validating at once."""
        self._request("DELETE", "/auth/tokens", headers={"X-Subject-Token": token})

    def expiring_token(
        self, username: str, password: str, project_id: str, *, lifetime_s: float = 2.0
    ) -> str:
        """A project-scoped token that has expired, returned only once keystone says so.

        Issued through an application credential that expires ``lifetime_s``
        from now (see the class docstring); the credential stays, so the token
        is expired and not revoked: plain validation fails, and validation with
        ``allow_expired`` still shows its user, project and roles.
        """
        # Only its owner may create an application credential: ask as the user.
        issued = self._password_token(username, password, project_id)
        user_token = issued.headers["X-Subject-Token"]
        user_id = issued.json()["token"]["user"]["id"]
        expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=lifetime_s)
        credential = self._request(
            "POST",
            f"/users/{user_id}/application_credentials",
            headers={"X-Auth-Token": user_token},
            authenticated=False,
            json={
                "application_credential": {
                    "name": f"expiring-{uuid.uuid4().hex}",
                    "expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
                }
            },
        ).json()["application_credential"]
        method = {"id": credential["id"], "secret": credential["secret"]}
        identity = {"methods": ["application_credential"], "application_credential": method}
        try:
            token = str(self._issue(identity).headers["X-Subject-Token"])
        except KeystoneError as exc:
            if dt.datetime.now(dt.UTC) < expires_at:
                raise
            raise KeystoneError(
                f"the credential expired before use: raise lifetime_s ({exc})"
            ) from exc
        deadline = time.monotonic() + lifetime_s + 30.0
        while self.validate(token) is not None:
            if time.monotonic() >= deadline:
                raise KeystoneTimeoutError(
                    f"a token meant to expire at {expires_at} still validates"
                )
            time.sleep(_POLL_INTERVAL_S)
        expired = self.validate(token, allow_expired=True)
        now = dt.datetime.now(dt.UTC)
        if expired is None or dt.datetime.fromisoformat(expired["expires_at"]) > now:
            raise KeystoneError(f"keystone refuses the token, but not as expired: {expired}")
        return token


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
        prog="python -m cool.local.keystone",
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
