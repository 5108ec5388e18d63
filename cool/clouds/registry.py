"""Which provider executes which resource type."""

from __future__ import annotations

from collections.abc import Sequence

from cool.clouds.base import Provider
from cool.clouds.nested import NestedProvider
from cool.errors import ConfigurationError
from cool.model import ResourceSpec


class Providers:
    """Providers in order of preference: the first that supports a type runs it."""

    def __init__(self, providers: Sequence[Provider]) -> None:
        self._providers = list(providers)
        self._nested = NestedProvider()

    def for_type(self, resource_type: str) -> Provider:
        for provider in self._providers:
            if provider.supports(resource_type):
                return provider
        raise ConfigurationError(f"no configured provider runs {resource_type}")

    def for_spec(self, spec: ResourceSpec) -> Provider:
        """The provider of a plan's resource: a nested stack's step (whatever its type
        names: a template file, OS::Heat::ResourceGroup) creates nothing, by its kind."""
        if spec.nested is not None:
            return self._nested
        return self.for_type(spec.type)
