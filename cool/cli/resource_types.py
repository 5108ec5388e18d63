"""``cool resource-type list`` and ``cool resource-type show TYPE``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cliff.lister import Lister
from cliff.show import ShowOne

from cool.cli.diagnostics import ReportedError
from cool.resources.registry import ResourceTypeRegistry
from cool.template.suggest import suggest


class ListResourceTypes(Lister):
    """List the resource types templates may use."""

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[list[Any]]]:
        rows = [
            [t.name, "yes" if t.needs_cloud else "no", t.description]
            for t in ResourceTypeRegistry.load()
        ]
        return ["Resource Type", "Needs Cloud", "Description"], rows


class ShowResourceType(ShowOne):
    """Show a resource type's properties and attributes."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("resource_type", metavar="TYPE", help="for example OS::Nova::Server")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[Any]]:
        registry = ResourceTypeRegistry.load()
        rtype = registry.get(parsed_args.resource_type)
        if rtype is None:
            raise ReportedError(
                f"unknown resource type {parsed_args.resource_type!r}"
                + suggest(parsed_args.resource_type, [t.name for t in registry])
            )
        data = rtype.to_dict()
        if parsed_args.formatter == "table":
            data["properties"] = _table_of(data["properties"])
            data["attributes"] = "\n".join(
                f"{name} ({a['type']}): {a['description']}"
                for name, a in data["attributes"].items()
            )
            data["unsupported_properties"] = "\n".join(
                f"{name}: {why}" for name, why in data["unsupported_properties"].items()
            )
        return list(data), list(data.values())


def _table_of(properties: dict[str, Any], indent: str = "") -> str:
    lines = []
    for name, prop in properties.items():
        flags = ["required"] if prop["required"] else []
        if "default" in prop:
            flags.append(f"default {json.dumps(prop['default'])}")
        for constraint in prop.get("constraints", ()):
            flags.append(json.dumps(constraint))
        suffix = f" [{'; '.join(flags)}]" if flags else ""
        lines.append(f"{indent}{name} ({prop['type']}){suffix}: {prop['description']}")
        nested = prop.get("schema")
        if nested:
            lines.append(_table_of(nested, indent + "  "))
    return "\n".join(lines)
