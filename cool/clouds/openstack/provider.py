"""``openstack``: real resources in an OpenStack cloud, through openstacksdk.

Each resource type has a handler (:mod:`cool.clouds.openstack.cloud` says
what one is); this module gives handlers a connection with the build's
authority and draws the boundary: whatever openstacksdk or keystoneauth
raise becomes cool's error tree here (:func:`cool.clouds.openstack.errors.translate`),
with ``retryable`` decided once.

Authority: a build submitted with a Keystone token has a trust
(``StepContext.trust_id``); ``sessions`` turns it into a trust-scoped
keystoneauth session (:class:`cool.clouds.openstack.credentials.CloudCredentials`),
or gives the clouds.yaml cloud's session in a standalone deployment.
Connections are kept per trust (a bounded number) and every request they
send takes a slot of the cloud's call cap (:mod:`cool.clouds.openstack.limits`).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from openstack import exceptions as os_exceptions
from openstack.connection import Connection

from cool.clouds.base import Found, Observed, ProviderError, StepContext
from cool.clouds.openstack import aws as aws_types
from cool.clouds.openstack import (
    cinder,
    cinder_types,
    keystone,
    neutron,
    neutron_qos,
    neutron_trunk,
    nova,
    nova_aggregates,
    octavia,
)
from cool.clouds.openstack.cloud import Cloud, Handler, forget_answers, recall_answer
from cool.clouds.openstack.errors import translate
from cool.clouds.openstack.limits import CallLimiter
from cool.errors import CoolError, StoreUnavailableError

T = TypeVar("T")

HANDLERS: Mapping[str, Handler] = {
    **neutron.HANDLERS,
    **neutron_qos.HANDLERS,
    **neutron_trunk.HANDLERS,
    **nova.HANDLERS,
    **cinder.HANDLERS,
    **cinder_types.HANDLERS,
    **nova_aggregates.HANDLERS,
    **octavia.HANDLERS,
    **aws_types.HANDLERS,
    **keystone.HANDLERS,
}

_CONNECTIONS_KEPT = 128  # trusts with a connection at hand; older ones are made again


class OpenStackProvider:
    """Every OpenStack type cool declares, in a real cloud."""

    name = "openstack"

    def __init__(
        self,
        sessions: Callable[[str], ks_session.Session],
        *,
        region_name: str | None = None,
        interface: str = "public",
        limiter: CallLimiter | None = None,
        neutron_tags: bool = False,
    ) -> None:
        self._sessions = sessions
        self._region_name = region_name or None
        self._interface = interface
        self.limiter = limiter or CallLimiter(8)
        self._neutron_tags = neutron_tags
        self._lock = threading.Lock()
        self._clouds: collections.OrderedDict[str, Cloud] = collections.OrderedDict()

    def supports(self, resource_type: str) -> bool:
        return resource_type in HANDLERS

    def _cloud(self, ctx: StepContext) -> Cloud:
        with self._lock:
            cloud = self._clouds.get(ctx.trust_id)
            if cloud is not None:
                self._clouds.move_to_end(ctx.trust_id)
                return cloud
        session = self._sessions(ctx.trust_id)
        auth_url = str(getattr(session.auth, "auth_url", "") or "")
        conn = Connection(
            session=self.limiter.limit(session, auth_url),
            region_name=self._region_name,
            interface=self._interface,
            app_name="cool",
        )
        with self._lock:
            cloud = self._clouds.setdefault(
                ctx.trust_id, Cloud(conn, neutron_tags=self._neutron_tags)
            )
            while len(self._clouds) > _CONNECTIONS_KEPT:
                self._clouds.popitem(last=False)
        return cloud

    def prepare(self, trust_id: str) -> None:
        """Log in for a build (its trust's token; cool.worker.logins): every step of the
        build shares the session, and keystoneauth keeps the token in it. Raises what
        the login raises; the caller only logs it (the steps meet it again)."""
        session = self._sessions(trust_id)
        session.get_auth_headers()

    def _call(self, ctx: StepContext, doing: str, call: Callable[[Handler, Cloud], T]) -> T:
        """One handler call, with openstacksdk's errors translated at this boundary."""
        doing = f"{doing} {ctx.resource_name} ({ctx.resource_type})"
        try:
            return call(HANDLERS[ctx.resource_type], self._cloud(ctx).step(ctx.made))
        except ProviderError:
            raise
        except (os_exceptions.SDKException, ks_exceptions.ClientException) as exc:
            raise translate(exc, doing) from exc
        except StoreUnavailableError as exc:  # the cluster-wide call cap's (cool.store.slots)
            raise ProviderError(f"{doing}: {exc}", retryable=True) from exc
        except CoolError as exc:  # credentials that cannot be made (configuration)
            raise ProviderError(f"{doing}: {exc}", retryable=False) from exc

    def create(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        if not self.supports(ctx.resource_type):
            raise ProviderError(f"the openstack provider does not run {ctx.resource_type}")
        forget_answers()
        return self._call(ctx, "create", lambda h, c: h.create(c, ctx, properties))

    def find(self, ctx: StepContext) -> list[Found]:
        return self._call(ctx, "look up", lambda h, c: h.find(c, ctx))

    def observe(self, ctx: StepContext, physical_id: str) -> Observed:
        """The first look after a create whose reply showed the resource ready is that
        reply (:func:`~cool.clouds.openstack.cloud.remember_answer`): no GET."""
        answer = recall_answer(ctx, physical_id)
        if isinstance(answer, Observed):
            return answer
        return self._call(ctx, "check", lambda h, c: h.observe(c, ctx, physical_id))

    def delete(self, ctx: StepContext, physical_id: str) -> None:
        self._call(ctx, "delete", lambda h, c: h.delete(c, ctx, physical_id))

    def is_deleted(self, ctx: StepContext, physical_id: str) -> bool:
        """A delete the cloud makes before it answers (Neutron's) is not looked at again."""
        if recall_answer(ctx, physical_id) is True:
            return True
        return self._call(
            ctx, "check the delete of", lambda h, c: h.is_deleted(c, ctx, physical_id)
        )
