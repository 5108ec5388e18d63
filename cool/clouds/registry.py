"""Which provider executes which resource type."""

from __future__ import annotations

from collections.abc import Sequence

from cool.clouds.base import Provider
from cool.errors import ConfigurationError


class Providers:
    """Providers in order of preference: the first that supports a type runs it."""

    def __init__(self, providers: Sequence[Provider]) -> None:
        self._providers = list(providers)

    def for_type(self, resource_type: str) -> Provider:
        for provider in self._providers:
            if provider.supports(resource_type):
                return provider
        raise ConfigurationError(f"no configured provider runs {resource_type}")
