"""The step of a resource that stands for a nested stack (a template resource, an
OS::Heat::Stack, an OS::Heat::ResourceGroup).

Its members are resources of the same plan (DESIGN.md section 3: one build, one
claim, one ledger), and it depends on every one of them, so by the time its step
runs they are built, and it is deleted before them. The step itself creates
nothing anywhere. Its physical id is what ``get_resource`` of it gives: in Heat, the
nested stack's id, a UUID; here a UUID too, derived from the build id and the
resource name (uuid5), so a worker that takes the build over gets the same one and
nothing needs to be found or adopted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from cool.clouds.base import Found, Observed, StepContext

# The namespace of every nested stack id: uuid5(NAMESPACE_URL, "cool:nested-stack").
# Fixed forever: stored builds and running workers must derive the same ids.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "cool:nested-stack")


def nested_stack_id(build_id: str, resource_name: str) -> str:
    """A nested stack's id: the same for every worker (a build id has a fixed length,
    so build id and name joined are unambiguous)."""
    return str(uuid.uuid5(NAMESPACE, f"{build_id}{resource_name}"))


class NestedProvider:
    """Runs the step of a nested stack's resource: chosen by ``ResourceSpec.nested``
    (cool.clouds.registry.Providers.for_spec), whatever its type names."""

    name = "nested"
    fences_creates = True  # it creates nothing anywhere: no late create can leave anything

    def supports(self, resource_type: str) -> bool:
        return True  # any type that stands for a nested stack; never chosen by type

    def finds_by_mark(self, resource_type: str) -> bool:
        return True  # it finds nothing at all, so nothing of another build's either

    def create(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        return nested_stack_id(ctx.build_id, ctx.resource_name)

    def find(self, ctx: StepContext) -> list[Found]:
        return []  # nothing exists to adopt: create gives the same id again

    def observe(self, ctx: StepContext, physical_id: str) -> Observed:
        return Observed(ready=True)

    def delete(self, ctx: StepContext, physical_id: str) -> None:
        return None  # its members are resources of the plan, deleted by their own steps

    def is_deleted(self, ctx: StepContext, physical_id: str) -> bool:
        return True
