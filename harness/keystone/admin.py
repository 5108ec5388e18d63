"""The bootstrap admin of a local Keystone, for tests: projects, users, tokens.

Everything goes through Keystone's v3 REST API with keystoneauth1; nothing
is faked. :class:`KeystoneAdmin` needs only the server's v3 URL and the
admin's password (``KeystoneServer.admin`` makes one for its server).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence
from typing import Any

import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from harness.keystone.errors import KeystoneError, KeystoneTimeoutError

ADMIN_USER = "admin"
ADMIN_PROJECT = "admin"
SERVICE_PROJECT = "service"
DEFAULT_DOMAIN = "default"
REGION = "RegionOne"  # keystone-manage bootstrap makes it

_POLL_INTERVAL_S = 0.05


class KeystoneAdmin:
    """``admin`` on project ``admin`` of the Keystone at ``url`` (its v3 API).

    Tokens live ``[token] expiration`` = 3600 s, one value for the whole
    server. :meth:`expiring_token` still gets an honestly expired token from a
    shared server: a token issued through an application credential expires
    with the credential (keystone caps it, CVE-2022-2447), so a credential
    that expires in two seconds yields a real, signed, unrevoked token that
    keystone itself refuses as expired once the time has passed.
    """

    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self._password = password
        self._session: ks_session.Session | None = None
        self._role_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<KeystoneAdmin {self.url}>"

    def session(self) -> ks_session.Session:
        """A keystoneauth1 session as the admin, made at first use (until :meth:`close`)."""
        if self._session is None:
            auth = v3.Password(
                auth_url=self.url,
                username=ADMIN_USER,
                password=self._password,
                project_name=ADMIN_PROJECT,
                user_domain_id=DEFAULT_DOMAIN,
                project_domain_id=DEFAULT_DOMAIN,
            )
            self._session = ks_session.Session(auth=auth, timeout=30)
        return self._session

    def close(self) -> None:
        """Close the admin's session; safe to call twice."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One call on the v3 API; any status >= 400 is a KeystoneError that quotes keystone."""
        response = self.session().request(self.url + path, method, raise_exc=False, **kwargs)
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

    def ensure_project(self, name: str) -> str:
        """The id of project ``name``, made when missing (by this caller or a racing one)."""
        project_id = self.project_id(name)
        if project_id is None:
            try:
                project_id = self.create_project(name)
            except KeystoneError:  # another caller created it first (409)
                project_id = self.project_id(name)
                if project_id is None:
                    raise
        return project_id

    def user_id(self, name: str) -> str | None:
        """The id of the default domain's user ``name``, or None."""
        params = {"name": name, "domain_id": DEFAULT_DOMAIN}
        users = self._request("GET", "/users", params=params).json()["users"]
        return str(users[0]["id"]) if users else None

    def ensure_user(self, name: str, password: str, project_id: str, roles: Sequence[str]) -> str:
        """:meth:`create_user` for a user that may exist already: its password, default
        project and roles are set again; its id."""
        user_id = self.user_id(name)
        if user_id is None:
            return self.create_user(name, password, project_id, roles)
        body = {"user": {"password": password, "default_project_id": project_id}}
        self._request("PATCH", f"/users/{user_id}", json=body)
        for role in roles:
            path = f"/projects/{project_id}/users/{user_id}/roles/{self.role_id(role)}"
            self._request("PUT", path)
        return user_id

    def create_service_user(
        self, name: str, password: str, roles: Sequence[str] = ("service", "admin")
    ) -> str:
        """A user with ``roles`` on project ``service``, as keystonemiddleware's
        auth_token logs in with (``service`` lets it validate tokens); bootstrap makes
        no such project."""
        return self.create_user(name, password, self.ensure_project(SERVICE_PROJECT), roles)

    def register_endpoint(self, service_type: str, url: str, *, name: str | None = None) -> str:
        """A catalog entry: a service of ``service_type`` with a public endpoint at ``url``
        (in bootstrap's region); returns the service id."""
        body = {"service": {"type": service_type, "name": name or service_type, "enabled": True}}
        service_id = str(self._request("POST", "/services", json=body).json()["service"]["id"])
        self._create_endpoint(service_id, url)
        return service_id

    def ensure_endpoint(self, service_type: str, url: str, *, name: str | None = None) -> str:
        """:meth:`register_endpoint`, or the public endpoint of the service of that type
        moved to ``url`` when the catalog has one; the service id."""
        services = self._request("GET", "/services", params={"type": service_type}).json()
        if not services["services"]:
            return self.register_endpoint(service_type, url, name=name)
        service_id = str(services["services"][0]["id"])
        params = {"service_id": service_id, "interface": "public", "region_id": REGION}
        endpoints = self._request("GET", "/endpoints", params=params).json()["endpoints"]
        if not endpoints:
            self._create_endpoint(service_id, url)
        elif endpoints[0]["url"] != url:
            body = {"endpoint": {"url": url}}
            self._request("PATCH", f"/endpoints/{endpoints[0]['id']}", json=body)
        return service_id

    def _create_endpoint(self, service_id: str, url: str) -> None:
        endpoint = {
            "endpoint": {
                "service_id": service_id,
                "interface": "public",
                "url": url,
                "region_id": REGION,
                "enabled": True,
            }
        }
        self._request("POST", "/endpoints", json=endpoint)

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
        response = self.session().get(
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
