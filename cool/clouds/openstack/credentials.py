"""Whose authority workers use in a real cloud, and the Keystone trusts that carry it.

Builds outlive tokens (DESIGN.md section 6). With ``[openstack] credentials
= trust``, the API turns the submitter's token into a Keystone trust from the
submitter (trustor) to cool's service user (trustee, the ``[trustee]``
group), with impersonation and the submitter's roles on the build's project,
and stores only the trust's id with the build. A trust id alone is useless:
using it takes the service user's password, which lives only in cool.conf.
Workers log in as the service user *with* the trust id and so act as the
submitter (:class:`CloudCredentials`); the GC deletes the trust when it
prunes the build (:meth:`Trusts.delete`).

With ``credentials = cloud`` there are no trusts: every build acts as the
clouds.yaml cloud named by ``[openstack] cloud`` (a standalone deployment).

``[trustee]`` holds keystoneauth's usual auth and session options, as Nova's
``[service_user]`` and Heat's ``[trustee]`` do. The service user's own
project scope (``project_name`` ...) is used to delete trusts; it is dropped
when logging in with a trust, which carries its own project.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import plugin as ks_plugin
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from cool.clouds.base import ProviderError
from cool.errors import (
    ConfigurationError,
    DelegationRefusedError,
    KeystoneUnavailableError,
    NotAuthenticatedError,
)
from cool.store.layout import is_trust_id

LOG = logging.getLogger(__name__)

TRUSTEE_GROUP = "trustee"


def trustee_group() -> cfg.OptGroup:
    """``[trustee]``, new each time: a ConfigOpts shares a registered group's option
    table with the group object, and keystoneauth adds the plugin's options (some
    required) to it when it loads one; a shared object would pass them on to every
    later ConfigOpts."""
    return cfg.OptGroup(
        TRUSTEE_GROUP,
        title="cool's service user (trustee)",
        help="With [openstack] credentials = trust: the Keystone user builds' trusts are made "
        "out to. Workers log in as it with a build's trust id and act as the build's submitter; "
        "the garbage collector deletes a pruned build's trust as it (project-scoped: give it a "
        "project, such as 'service'). keystoneauth's options: auth_type = password, auth_url, "
        "username, password, user_domain_id, project_name, project_domain_id, ...",
    )


# Scope options of keystoneauth's identity plugins: a trust brings its own project.
_SCOPE_OPTIONS = (
    "system_scope",
    "domain_id",
    "domain_name",
    "project_id",
    "project_name",
    "project_domain_id",
    "project_domain_name",
)
_MAX_SESSIONS = 256
DISCOVERY_TTL_S = 3600.0  # how long trust sessions share what a discovery found
# Seconds a call through a [trustee] session may take (keystoneauth waits forever by
# default): a hung Keystone or cloud must not hold an API thread or a step for ever.
TIMEOUT_S = 60
_CONNECTION_FAILURES = (
    ks_exceptions.ConnectionError,  # refused, timed out, reset, TLS
    ks_exceptions.DiscoveryFailure,
)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """``[trustee]`` the way keystoneauth wants it: the plugin's options follow ``auth_type``."""
    conf.register_group(trustee_group())
    ks_loading.register_auth_conf_options(conf, TRUSTEE_GROUP)
    ks_loading.register_session_conf_options(conf, TRUSTEE_GROUP)
    conf.set_default("timeout", TIMEOUT_S, group=TRUSTEE_GROUP)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """For oslo-config-generator: ``[trustee]`` with the password plugin's options."""
    return [
        (
            trustee_group(),
            [
                *ks_loading.get_auth_common_conf_options(),
                *ks_loading.get_auth_plugin_conf_options("password"),
                *_session_opts(),
            ],
        )
    ]


def _session_opts() -> list[cfg.Opt]:
    opts = ks_loading.get_session_conf_options()
    for opt in opts:
        if opt.dest == "timeout":
            opt.default = TIMEOUT_S
    return opts


def _auth_group(conf: cfg.ConfigOpts) -> str:
    return conf[TRUSTEE_GROUP].auth_section or TRUSTEE_GROUP


def _service_auth(conf: cfg.ConfigOpts, **overrides: Any) -> ks_plugin.BaseAuthPlugin:
    try:
        auth = ks_loading.load_auth_from_conf_options(conf, TRUSTEE_GROUP, **overrides)
    except ks_exceptions.ClientException as exc:  # NoMatchingPlugin, MissingRequiredOptions
        raise ConfigurationError(f"[{TRUSTEE_GROUP}]: {exc}") from exc
    if auth is None:
        raise ConfigurationError(
            f"[{TRUSTEE_GROUP}] auth_type is not set: cool's service user is needed for "
            "[openstack] credentials = trust"
        )
    return auth


def trust_auth(conf: cfg.ConfigOpts, trust_id: str) -> ks_plugin.BaseAuthPlugin:
    """The service user's credentials with ``trust_id`` and no scope of their own."""
    name = conf[_auth_group(conf)].auth_type
    if not name:
        _service_auth(conf)  # raises: not configured
    try:
        dests = {opt.dest for opt in ks_loading.get_plugin_loader(name).get_options()}
    except ks_exceptions.NoMatchingPlugin as exc:
        raise ConfigurationError(f"[{TRUSTEE_GROUP}] auth_type: {exc}") from exc
    if "trust_id" not in dests:
        raise ConfigurationError(
            f"[{TRUSTEE_GROUP}] auth_type = {name} cannot log in with a trust: use password"
        )
    unscoped = {dest: None for dest in _SCOPE_OPTIONS if dest in dests}
    return _service_auth(conf, trust_id=trust_id, **unscoped)


def _service_session(
    conf: cfg.ConfigOpts, auth: ks_plugin.BaseAuthPlugin, **options: Any
) -> ks_session.Session:
    return ks_loading.load_session_from_conf_options(conf, TRUSTEE_GROUP, auth=auth, **options)


def _keystone_message(response: Any) -> str:
    """Keystone's own words from an error body (``{"error": {"message": ...}}``)."""
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text or response.reason or ""
    return " ".join(str(message).split()) or f"HTTP {response.status_code}"


class Trusts:
    """Creates and deletes the trusts of builds, in cool's service user's name.

    Nothing is asked of Keystone before the first call; the service user's id
    and Keystone's v3 URL are then found once and kept.
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self._conf = conf
        self._auth = _service_auth(conf)
        self._session = _service_session(conf, self._auth)
        self._lock = threading.Lock()
        self._trustee_user_id: str | None = None
        self._url: str | None = None

    def trustee_user_id(self) -> str:
        """The service user's id (its token says it; asked once)."""
        if self._trustee_user_id is None:
            with self._lock, _service_calls("find cool's service user"):
                self._trustee_user_id = self._auth.get_user_id(self._session)
        assert self._trustee_user_id is not None
        return self._trustee_user_id

    def _identity_url(self) -> str:
        """Keystone's v3 API, as the service user's auth_url names it (found once)."""
        if self._url is None:
            with self._lock, _service_calls("find Keystone's v3 API"):
                url = self._auth.get_endpoint(
                    self._session, interface=ks_plugin.AUTH_INTERFACE, version=(3, 0)
                )
            if not url:
                raise ConfigurationError(f"[{TRUSTEE_GROUP}] auth_url offers no Keystone v3 API")
            self._url = url.rstrip("/")
        return self._url

    def create(
        self, caller_token: str, trustor_user_id: str, project_id: str, roles: Sequence[str]
    ) -> str:
        """A trust from the caller to cool's service user: impersonation, the caller's
        ``roles`` on ``project_id``, no expiry (the GC deletes it). Its id.

        The caller's own token makes it: Keystone lets a user delegate only what
        the user has (so a role the caller lacks is refused), never for anyone else.
        """
        body = {
            "trust": {
                "trustor_user_id": trustor_user_id,
                "trustee_user_id": self.trustee_user_id(),
                "project_id": project_id,
                "impersonation": True,
                "allow_redelegation": False,
                "roles": [{"name": role} for role in dict.fromkeys(roles)],
            }
        }
        url = self._identity_url() + "/OS-TRUST/trusts"
        try:
            response = self._session.post(
                url,
                json=body,
                headers={"X-Auth-Token": caller_token},
                authenticated=False,
                raise_exc=False,
            )
        except _CONNECTION_FAILURES as exc:
            raise KeystoneUnavailableError(
                f"Keystone cannot be reached to delegate your roles to cool: {exc}"
            ) from exc
        status = response.status_code
        if status == 201:
            trust_id = response.json()["trust"]["id"]
            if not is_trust_id(trust_id):
                raise KeystoneUnavailableError(f"Keystone answered an odd trust id {trust_id!r}")
            return str(trust_id)
        message = _keystone_message(response)
        if status == 401:
            raise NotAuthenticatedError(
                f"Keystone no longer accepts your token to delegate your roles: {message}"
            )
        if status >= 500:
            raise KeystoneUnavailableError(
                f"Keystone failed to delegate your roles to cool: {message} (HTTP {status})"
            )
        raise DelegationRefusedError(
            f"Keystone refused to delegate your roles ({', '.join(roles)}) on project "
            f"{project_id} to cool's service user, which builds need to act for you: "
            f"{message} (HTTP {status})"
        )

    def delete(self, trust_id: str) -> None:
        """Delete a trust; one already gone is fine.

        Keystone's default policy lets a trust's trustor (or an admin) delete it,
        not its trustee: so first through the trust itself, whose token is the
        trustor's (impersonation); then, should that login fail, as the service
        user (enough when it is an admin, and it tells a trust already gone, 404).
        """
        if not is_trust_id(trust_id):
            LOG.warning("not a trust id, nothing deleted: %r", trust_id)
            return
        url = f"{self._identity_url()}/OS-TRUST/trusts/{quote(trust_id)}"
        as_trustor = _service_session(self._conf, trust_auth(self._conf, trust_id))
        try:
            with _service_calls(f"delete trust {trust_id}"):
                response = as_trustor.delete(url, raise_exc=False)
            if response.status_code in (204, 404):
                return
        except ConfigurationError as exc:  # its login refused: gone, or its trustor is
            LOG.info("trust %s: its own login failed (%s); asking as cool's user", trust_id, exc)
        finally:
            as_trustor.session.close()
        with _service_calls(f"delete trust {trust_id}"):
            response = self._session.delete(url, raise_exc=False)
        if response.status_code in (204, 404):
            return
        raise ProviderError(
            f"delete trust {trust_id}: {_keystone_message(response)} (HTTP {response.status_code})",
            retryable=response.status_code >= 500,
        )


@contextmanager
def _service_calls(doing: str) -> Iterator[None]:
    """keystoneauth's errors while cool's service user logs in or calls, as cool's."""
    try:
        yield
    except _CONNECTION_FAILURES as exc:
        raise KeystoneUnavailableError(f"{doing}: Keystone cannot be reached: {exc}") from exc
    except ks_exceptions.Unauthorized as exc:
        raise ConfigurationError(
            f"{doing}: cool's service user cannot log in to Keystone; check "
            f"[{TRUSTEE_GROUP}]: {exc}"
        ) from exc
    except ks_exceptions.HttpError as exc:
        if (exc.http_status or 0) >= 500:
            raise KeystoneUnavailableError(f"{doing}: {exc}") from exc
        raise ConfigurationError(f"{doing}: {exc}") from exc
    except ks_exceptions.ClientException as exc:  # a plugin's own refusal
        raise ConfigurationError(f"{doing}: {exc}") from exc


def api_trusts(conf: cfg.ConfigOpts) -> Trusts | None:
    """What the API makes trusts with: only for the openstack provider acting through
    trusts. Those need the caller's Keystone token, so any other auth strategy is a
    configuration error (refused at start-up, never at the first submit)."""
    if conf.worker.provider != "openstack" or conf.openstack.credentials != "trust":
        return None
    if conf.api.auth_strategy != "keystone":
        raise ConfigurationError(
            "[worker] provider = openstack with [openstack] credentials = trust needs "
            f"[api] auth_strategy = keystone (not {conf.api.auth_strategy}): builds act "
            "through Keystone trusts made from the caller's token. Use credentials = cloud "
            "to act as one clouds.yaml cloud instead"
        )
    return Trusts(conf)


def gc_trusts(conf: cfg.ConfigOpts) -> Trusts | None:
    """What the GC deletes pruned builds' trusts with: whenever ``[trustee]`` is set,
    whatever the provider now (builds of an earlier configuration may carry trusts)."""
    if not conf[_auth_group(conf)].auth_type:
        return None
    return Trusts(conf)


class CloudCredentials:
    """The keystoneauth session a build's cloud calls go through.

    ``credentials = trust``: the service user logged in with the build's trust,
    acting as the submitter; one session per trust id, the most recently used
    kept (keystoneauth logs in again by itself when a token nears its expiry).
    ``credentials = cloud``: one session for the clouds.yaml cloud, whatever the
    build.
    """

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        *,
        max_sessions: int = _MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conf = conf
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, ks_session.Session] = OrderedDict()
        self._cloud_session: ks_session.Session | None = None
        self._lock = threading.Lock()
        self._clock = clock
        self._discovery: dict[str, Any] = {}
        self._discovery_since = clock()

    def session(self, trust_id: str) -> ks_session.Session:
        if self.conf.openstack.credentials == "cloud":
            return self._cloud()
        if not trust_id:
            raise ProviderError(
                "this build has no Keystone trust to act for its submitter with "
                "([openstack] credentials = trust): it was submitted while the API made "
                "no trusts (another provider or credentials); submit it again",
                retryable=False,
            )
        if not is_trust_id(trust_id):
            raise ProviderError(f"not a trust id: {trust_id!r}", retryable=False)
        with self._lock:
            session = self._sessions.get(trust_id)
            if session is not None:
                self._sessions.move_to_end(trust_id)
                return session
        session = _service_session(
            self.conf, trust_auth(self.conf, trust_id), discovery_cache=self._discovery_cache()
        )
        with self._lock:
            session = self._sessions.setdefault(trust_id, session)
            self._sessions.move_to_end(trust_id)
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)  # in use elsewhere: it still works
        return session

    def _discovery_cache(self) -> dict[str, Any]:
        """keystoneauth's version discovery, shared by every trust's session.

        Each build has its own trust, hence its own session; without a shared cache
        each build's first calls asked Keystone, Nova, Cinder and Glance for their
        versions again (5 requests a build on the mini cloud, on the first steps'
        path). What they answer is the same whoever asks: keystoneauth discovers
        without a token, by a URL without the project (Cinder's ``/v3/<project>`` is
        asked as ``/v3``), and puts each session's project back into its own
        endpoint. Sessions made after :data:`DISCOVERY_TTL_S` start a new cache
        (those made before keep theirs, as they always kept what they found).
        """
        with self._lock:
            now = self._clock()
            if now - self._discovery_since > DISCOVERY_TTL_S:
                self._discovery, self._discovery_since = {}, now
            return self._discovery

    def _cloud(self) -> ks_session.Session:
        with self._lock:
            if self._cloud_session is None:
                self._cloud_session = _clouds_yaml_session(self.conf.openstack.cloud)
            return self._cloud_session


def _clouds_yaml_session(cloud: str) -> ks_session.Session:
    import openstack.config  # noqa: PLC0415  (only this mode needs openstacksdk here)
    from openstack import exceptions as os_exceptions  # noqa: PLC0415
    from openstack import warnings as os_warnings  # noqa: PLC0415

    if not cloud:
        raise ConfigurationError(
            "[openstack] credentials = cloud needs [openstack] cloud: a cloud's name in clouds.yaml"
        )
    try:
        # openstacksdk warns of its own internals (InfluxDB, statsd), whatever the config.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", os_warnings.RemovedInSDK60Warning)
            return openstack.config.OpenStackConfig().get_one(cloud).get_session()
    except os_exceptions.ConfigException as exc:
        raise ConfigurationError(f"[openstack] cloud {cloud!r}: {exc}") from exc
