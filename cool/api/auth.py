"""Who is asking: the three ``[api] auth_strategy`` values, wired as WSGI middleware.

Each strategy ends in the same place: the identity headers keystonemiddleware
sets (``X-User-Id``, ``X-Project-Id``, ``X-Roles``, ``X-Identity-Status``),
from which :func:`identify` builds an oslo.context ``RequestContext`` for
oslo.policy. Strategies other than Keystone first strip whatever identity
headers the caller sent, so nobody can claim a project by sending a header.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from keystonemiddleware import auth_token
from oslo_config import cfg
from oslo_context.context import RequestContext
from oslo_middleware import basic_auth

from cool.api.errors import respond
from cool.api.password_checks import CheckSlots, Remembered
from cool.errors import ConfigurationError
from cool.store.layout import PROJECT_ID

LOG = logging.getLogger(__name__)

ENV_CONTEXT = "cool.context"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Every header from which oslo.context or keystonemiddleware read an identity.
_IDENTITY = re.compile(
    r"HTTP_X_(USER|PROJECT|TENANT|DOMAIN|ROLE|SERVICE|IS_ADMIN|IDENTITY|SYSTEM|AUTH|"
    r"STORAGE|APPLICATION|TRUST|OPENSTACK_SYSTEM)|HTTP_OPENSTACK_SYSTEM_SCOPE"
)
# Keystone's default implied roles, for strategies that do not ask Keystone.
_IMPLIED = {"admin": ("member", "reader"), "member": ("reader",)}
_CACHE_SIZE = 1024
_CHECK_WAIT_S = 5.0  # longest a request waits for a password check slot


def wrap(app: WSGIApp, conf: cfg.ConfigOpts) -> WSGIApp:
    """``app`` behind the configured strategy, then :class:`Identify`."""
    strategy = conf.api.auth_strategy
    identified = Identify(app)
    if strategy == "keystone":
        return auth_token.AuthProtocol(identified, {"oslo_config_config": conf})
    if strategy == "http_basic":
        group = conf.http_basic
        return HtpasswdAuth(
            identified,
            htpasswd_file=group.htpasswd_file,
            users=parse_users(group.user),
            cache_ttl_s=group.cache_ttl,
            failure_ttl_s=group.failure_cache_ttl,
            checks=group.concurrent_checks,
        )
    if strategy == "noauth":
        group = conf.noauth
        return NoAuth(
            identified, user_id=group.user_id, project_id=group.project_id, roles=group.roles
        )
    raise ConfigurationError(f"unknown [api] auth_strategy {strategy!r}")


def implied(roles: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys(r.strip() for r in roles if r.strip()))
    for role in list(out):
        out.extend(r for r in _IMPLIED.get(role.lower(), ()) if r not in out)
    return out


def parse_users(entries: Iterable[str]) -> dict[str, tuple[str, list[str]]]:
    """``[http_basic] user`` entries (USER:PROJECT:ROLE[,ROLE]) -> user: (project, roles)."""
    users: dict[str, tuple[str, list[str]]] = {}
    for text in entries:
        parts = text.split(":")
        if len(parts) != 3 or not parts[0] or not PROJECT_ID.fullmatch(parts[1]):
            raise ConfigurationError(
                f"[http_basic] user {text!r}: expected USER:PROJECT:ROLE[,ROLE...] with a "
                "project id of letters, digits, '_', '.' and '-'"
            )
        users[parts[0]] = (parts[1], implied(parts[2].split(",")))
    return users


def _strip_identity(environ: dict[str, Any]) -> None:
    for key in [k for k in environ if _IDENTITY.match(k)]:
        del environ[key]


def _set_identity(environ: dict[str, Any], user_id: str, project_id: str, roles: list[str]) -> None:
    environ["HTTP_X_USER_ID"] = user_id
    environ["HTTP_X_USER_NAME"] = user_id
    environ["HTTP_X_PROJECT_ID"] = project_id
    environ["HTTP_X_ROLES"] = ",".join(roles)
    environ["HTTP_X_IDENTITY_STATUS"] = "Confirmed"


def refuse(
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    status: int,
    detail: str,
    headers: dict[str, str] | None = None,
) -> list[bytes]:
    code = {401: "cool.auth.unauthenticated", 403: "cool.auth.forbidden"}[status]
    return respond(environ, start_response, status, code, detail, headers=headers)


class Identify:
    """The request context from the identity headers; 401 without a confirmed identity
    (keystonemiddleware's ``delay_auth_decision`` passes unauthenticated requests on)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_IDENTITY_STATUS") != "Confirmed":
            return refuse(environ, start_response, 401, "authentication required")
        environ[ENV_CONTEXT] = RequestContext.from_environ(environ)
        return self.app(environ, start_response)


@dataclass(slots=True)
class _Flight:
    """A password check in flight, and its answer once done (None: no slot came)."""

    done: threading.Event = field(default_factory=threading.Event)
    verified: bool | None = None


class HtpasswdAuth:
    """HTTP basic auth against a bcrypt htpasswd file, checked by oslo.middleware.

    oslo.middleware's own ``BasicAuthMiddleware`` reads the global
    ``cfg.CONF`` and turns any exception of the app behind it into a 401, so
    its functions are used here directly. bcrypt is slow on purpose (~0.2 s
    a check at the usual cost): a right user and password are remembered, as
    a SHA-256 digest, for ``cache_ttl_s``, a wrong one for ``failure_ttl_s`` after its
    last try,
    and the checks left run ``checks`` at a time (see
    :mod:`cool.api.password_checks`); a changed file forgets them all.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        htpasswd_file: str,
        users: dict[str, tuple[str, list[str]]],
        cache_ttl_s: float = 300.0,
        failure_ttl_s: float = 10.0,
        checks: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            basic_auth.validate_auth_file(htpasswd_file)
        except Exception as exc:  # ConfigInvalid, or webob's 400 for a non-bcrypt entry
            raise ConfigurationError(f"[http_basic] htpasswd_file {htpasswd_file}: {exc}") from exc
        self.app = app
        self.htpasswd_file = htpasswd_file
        self.users = users
        self.cache_ttl_s = cache_ttl_s
        self.failure_ttl_s = failure_ttl_s
        self.clock = clock
        self._right = Remembered(_CACHE_SIZE)
        self._wrong = Remembered(_CACHE_SIZE)
        self._slots = CheckSlots(checks, waiting=4 * checks, wait_s=_CHECK_WAIT_S)
        self._file_stamp: tuple[float, int] | None = None
        self._lock = threading.Lock()
        self._in_flight: dict[bytes, _Flight] = {}  # credential digest: its check running

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        _strip_identity(environ)
        challenge = {"WWW-Authenticate": 'Basic realm="cool"'}
        try:
            username, password = basic_auth.parse_token(basic_auth.parse_header(environ))
        except Exception as exc:  # webob's HTTPUnauthorized / HTTPBadRequest
            detail = getattr(exc, "detail", None) or "HTTP basic credentials required"
            return refuse(environ, start_response, 401, str(detail), challenge)
        verified = self._verified(username, password)
        if verified is None:
            return respond(
                environ,
                start_response,
                503,
                "cool.auth.busy",
                "too many password checks in progress; retry",
                headers={"Retry-After": "1"},
            )
        if not verified:
            return refuse(environ, start_response, 401, "invalid username or password", challenge)
        project = self.users.get(username)
        if project is None:
            LOG.warning("user %s authenticated but has no [http_basic] user entry", username)
            return refuse(environ, start_response, 403, f"user {username} has no project")
        project_id, roles = project
        _set_identity(environ, username, project_id, roles)
        return self.app(environ, start_response)

    def _verified(self, username: str, password: bytes) -> bool | None:
        """True or False; None when no check slot came in time."""
        key = hashlib.sha256(username.encode() + b"\0" + password).digest()
        self._forget_if_file_changed()
        now = self.clock()
        if (key, now) in self._right:
            return True
        if (key, now) in self._wrong:  # remembered while it keeps coming: no expiry burst
            self._wrong.add(key, now + self.failure_ttl_s)
            return False
        # One check per credential at a time: a client's parallel first requests (or a
        # flood repeating one password) wait for the check in flight, not for slots.
        with self._lock:
            flight = self._in_flight.get(key)
            leader = flight is None
            if flight is None:
                flight = self._in_flight[key] = _Flight()
        if not leader:
            if not flight.done.wait(2 * _CHECK_WAIT_S):
                return None
            return flight.verified
        try:
            flight.verified = self._check(key, username, password, now)
        finally:
            with self._lock:
                del self._in_flight[key]
            flight.done.set()
        return flight.verified

    def _check(self, key: bytes, username: str, password: bytes, now: float) -> bool | None:
        with self._slots.slot(username) as slot:
            if not slot:
                return None
            try:
                basic_auth.authenticate(self.htpasswd_file, username, password)
            except Exception:  # HTTPUnauthorized, or the file unreadable (logged by oslo)
                if self.failure_ttl_s > 0:
                    self._wrong.add(key, now + self.failure_ttl_s)
                return False
        if self.cache_ttl_s > 0:
            self._right.add(key, now + self.cache_ttl_s)
        return True

    def _forget_if_file_changed(self) -> None:
        try:
            stat = os.stat(self.htpasswd_file)
            stamp = (stat.st_mtime, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._file_stamp:
                self._right.clear()
                self._wrong.clear()
                self._file_stamp = stamp


class NoAuth:
    """Development only: every request is trusted to say who it is.

    ``cool-api`` refuses to listen on anything but loopback with this
    strategy; in case the app is served some other way, requests from peers
    that are not on loopback are refused here too.
    """

    def __init__(self, app: WSGIApp, *, user_id: str, project_id: str, roles: list[str]) -> None:
        self.app = app
        self.user_id = user_id
        self.project_id = project_id
        self.roles = implied(roles)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not is_loopback(environ.get("REMOTE_ADDR", "")):
            return refuse(environ, start_response, 403, "noauth serves loopback clients only")
        user_id = environ.get("HTTP_X_USER_ID") or self.user_id
        project_id = environ.get("HTTP_X_PROJECT_ID") or self.project_id
        roles_header = environ.get("HTTP_X_ROLES")
        roles = implied(roles_header.split(",")) if roles_header is not None else self.roles
        _strip_identity(environ)
        _set_identity(environ, user_id, project_id, roles)
        return self.app(environ, start_response)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False
