"""The resource types cool knows, loaded from stevedore entry points.

Each entry point of the ``cool.resource_types`` group names a sequence of
:class:`ResourceType`; an operator adds types by installing a package that
declares one, without forking cool.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from stevedore import ExtensionManager

from cool.errors import ConfigurationError
from cool.resources.schema import ResourceType

ENTRY_POINT_GROUP = "cool.resource_types"


class ResourceTypeRegistry:
    def __init__(self, types: Iterable[ResourceType]) -> None:
        self._types: dict[str, ResourceType] = {}
        for rtype in types:
            if rtype.name in self._types:
                raise ConfigurationError(f"resource type {rtype.name} is declared twice")
            self._types[rtype.name] = rtype

    @classmethod
    def load(cls, group: str = ENTRY_POINT_GROUP) -> ResourceTypeRegistry:
        """Every type declared by the installed plugins, failing loudly on a bad one."""

        def _failed(_manager: object, entry_point: object, exc: BaseException) -> None:
            raise ConfigurationError(
                f"cannot load resource types from {entry_point}: {exc}"
            ) from exc

        manager = ExtensionManager(group, invoke_on_load=False, on_load_failure_callback=_failed)
        types: list[ResourceType] = []
        for extension in sorted(manager, key=lambda e: e.name):
            declared = extension.plugin
            if not isinstance(declared, list | tuple) or not all(
                isinstance(t, ResourceType) for t in declared
            ):
                raise ConfigurationError(
                    f"entry point {extension.name!r} of {group} must name a sequence of "
                    "ResourceType"
                )
            types.extend(declared)
        return cls(types)

    def get(self, name: str) -> ResourceType | None:
        return self._types.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def __len__(self) -> int:
        return len(self._types)
