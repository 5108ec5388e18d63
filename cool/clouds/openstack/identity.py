"""How the openstack provider marks a cloud resource as one build step's, and finds it.

Adoption (DESIGN.md section 5) needs an identity the cloud keeps *atomically
with the create*: a mark added by a second call after the create could be
lost with the worker that was to make it. Each service offers its own:

- Neutron: the ``description`` (``cool-build=<id>,cool-resource=<name>``), the one
  field every Neutron resource takes in its create and filters on. Neutron's tags
  (``cool-build=<id>``, ``cool-resource=<name>``) go on ports, in their create;
  Neutron 2026.1 takes tags in a create's body for ports only, so the other
  resources get them only with ``[openstack] neutron_tags`` (a second call each,
  right after the create; a worker that takes over adds them if the one that
  created the resource died first);
- Nova servers: the same tags (Nova allows 60 characters a tag, so a long
  resource name is shortened to a digest) and, exact, server metadata;
- Cinder volumes: volume metadata (``cool-build``, ``cool-resource``);
- Nova key pairs have neither: their identity is their name, and cool writes
  the tags into the public key's comment (see :mod:`cool.clouds.openstack.nova`).

A found resource counts as the step's only when its exact marks match
(:func:`carries`): a list filter is a shortcut, never the proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cool.clouds.base import TAG_BUILD, TAG_RESOURCE, Found, StepContext
from cool.model import NESTED_SEPARATOR

_NOVA_TAG_MAX = 60


def neutron_tags(ctx: StepContext) -> list[str]:
    return [f"{TAG_BUILD}={ctx.build_id}", f"{TAG_RESOURCE}={ctx.resource_name}"]


def nova_tags(ctx: StepContext) -> list[str]:
    """Neutron's tags, as Nova takes them: no ``/`` (Nova's tags match ``^[^,/]*$``), so a
    nested name's ``web/0/server`` is ``web~0~server`` (``~`` is in no resource name, as
    in the znode names), and a long resource name is its digest (Nova's 60 characters)."""
    resource = f"{TAG_RESOURCE}={ctx.resource_name.replace(NESTED_SEPARATOR, '~')}"
    if len(resource) > _NOVA_TAG_MAX:
        digest = hashlib.sha256(ctx.resource_name.encode()).hexdigest()[:32]
        resource = f"{TAG_RESOURCE}=sha256:{digest}"
    return [f"{TAG_BUILD}={ctx.build_id}", resource]


_DESCRIPTION_MAX = 255


def of_build(ctx: StepContext, resource: Any) -> bool:
    """A Neutron resource that one of this build's steps made: its description is a
    mark of this build, or ends with one in parentheses (:func:`mark`,
    :func:`described`), or its tags say so."""
    build = f"{TAG_BUILD}={ctx.build_id}"
    description = str(getattr(resource, "description", "") or "")
    mark_of_build = f"{build},{TAG_RESOURCE}="
    in_description = description.startswith(mark_of_build) or (
        description.endswith(")") and f" ({mark_of_build}" in description
    )
    return in_description or build in (getattr(resource, "tags", None) or ())


def mark(ctx: StepContext) -> str:
    """The step's mark in one string (a Neutron description, a public key's comment)."""
    text = ",".join(neutron_tags(ctx))
    if len(text) > _DESCRIPTION_MAX:
        digest = hashlib.sha256(ctx.resource_name.encode()).hexdigest()[:32]
        text = f"{TAG_BUILD}={ctx.build_id},{TAG_RESOURCE}=sha256:{digest}"
    return text


def described(ctx: StepContext, text: Any, limit: int = _DESCRIPTION_MAX) -> str:
    """A description carrying the mark: the template's text (cut to fit ``limit``, the
    255 characters Neutron and Cinder take) with the mark after it, or the mark alone."""
    suffix = f" ({mark(ctx)})"
    if text is None or text == "":
        return mark(ctx)
    return str(text)[: max(0, limit - len(suffix))] + suffix


def marked(ctx: StepContext, description: str | None) -> bool:
    """The description is the mark, or ends with it in parentheses (after a template's
    own text): exactly, since one step's mark can be the start of another's."""
    text, wanted = description or "", mark(ctx)
    return text == wanted or text.endswith(f" ({wanted})")


def metadata(ctx: StepContext) -> dict[str, str]:
    """The exact marks, for services with key-value metadata (Nova, Cinder)."""
    return dict(ctx.tags)


def carries(ctx: StepContext, meta: Mapping[str, Any] | None) -> bool:
    meta = meta or {}
    return all(meta.get(key) == value for key, value in ctx.tags.items())


def timestamp(value: Any) -> float:
    """A service's ISO 8601 time (with or without zone, Z or offset) in epoch seconds; 0 if none."""
    if not value:
        return 0.0
    text = str(value).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    if moment.tzinfo is None:  # Nova and Cinder write UTC without saying so
        text += "+00:00"
        moment = datetime.fromisoformat(text)
    return moment.timestamp()


def oldest_first(resources: Iterable[Any], *, keep: Any = lambda _r: True) -> list[Found]:
    """Resources (openstacksdk objects with ``id`` and ``created_at``) kept by ``keep``."""
    found = [
        Found(str(r.id), timestamp(getattr(r, "created_at", None))) for r in resources if keep(r)
    ]
    return sorted(found, key=lambda f: (f.created_at, f.physical_id))
