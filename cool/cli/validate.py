"""``cool validate``: check a template offline, as the API would, and show its plan."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from cliff.lister import Lister

from cool.cli.bundle import Bundle, bundle
from cool.cli.client import ApiError, ApiUnreachableError
from cool.cli.diagnostics import ReportedError, render
from cool.cli.remote import RemoteMixin
from cool.errors import TemplateInvalidError
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
from cool.template.environment import Source
from cool.template.samples import sample_values


def parse_assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


# What else a Heat environment file may hold (ignored here).
_OTHER_ENV_SECTIONS = (
    "resource_registry",
    "event_sinks",
    "encrypted_param_names",
    "parameter_merge_strategies",
)


def load_parameter_file(path: str) -> dict[str, Any]:
    """A YAML or JSON mapping of values, or a Heat environment's ``parameters``."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReportedError(f"cannot read parameter file {path}: {exc}") from None
    sections = ("parameter_defaults", "parameters")
    if isinstance(data, dict) and data and set(data) <= {*sections, *_OTHER_ENV_SECTIONS}:
        # a Heat environment file: its defaults, then its values
        merged: dict[str, Any] = {}
        for section in sections:
            if isinstance(data.get(section), dict):
                merged.update(data[section])
        data = merged
    if not isinstance(data, dict):
        raise ReportedError(f"parameter file {path} must hold a mapping of names to values")
    return data


def add_template_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE, -P NAME=VALUE and --parameter-file: as validate and submit take them."""
    parser.add_argument("template", metavar="FILE", help="HOT template (YAML or JSON); - for stdin")
    parser.add_argument(
        "-P",
        "--parameter",
        metavar="NAME=VALUE",
        action="append",
        type=parse_assignment,
        help="a parameter value (repeat for more)",
    )
    parser.add_argument(
        "--parameter-file",
        metavar="FILE",
        action="append",
        help="a YAML or JSON file of parameter values (repeat for more)",
    )
    parser.add_argument(
        "-e",
        "--environment",
        metavar="FILE",
        action="append",
        help="a Heat environment file (repeat for more; later ones win); its files and the "
        "template's get_file files are sent along, as python-heatclient sends them",
    )


def gather_values(parsed: argparse.Namespace) -> dict[str, Any] | None:
    """The values given on the command line; None when none were (validate only)."""
    if not parsed.parameter and not parsed.parameter_file:
        return None
    values: dict[str, Any] = {}
    for path in parsed.parameter_file or ():
        values.update(load_parameter_file(path))
    for name, value in parsed.parameter or ():
        values[name] = value
    return values


class Validate(RemoteMixin, Lister):
    """Validate a template offline and list its resources in build order.

    Without parameter values every check but the values themselves is made,
    and the parameters the template needs are listed. Problems are printed
    as ``file:line:col: code: message`` and the exit code is 1.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_template_arguments(parser)
        parser.add_argument(
            "--sample-values",
            action="store_true",
            help="fill parameters that have no value and no default with sample values "
            "that satisfy their constraints, and compile the whole plan",
        )
        parser.add_argument(
            "--show-parameters",
            action="store_true",
            help="list the template's parameters instead of its resources",
        )
        parser.add_argument(
            "--remote",
            action="store_true",
            help="ask cool-api (POST /v1/validate) instead of checking here: the "
            "server's resource types and limits apply",
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> tuple[list[str], list[list[Any]]]:
        path = parsed_args.template
        bundled = bundle(path, parsed_args.environment)
        values = gather_values(parsed_args)
        if parsed_args.remote:
            return self._remote(parsed_args, bundled, values)
        registry = ResourceTypeRegistry.load()
        environments = [Source(u, bundled.files[u]) for u in bundled.environment_files]
        try:
            report = check(
                bundled.template,
                registry,
                values,
                environments=environments,
                files=bundled.files,
            )
            # Missing values are problems once some are given (-P): samples fill them too.
            if parsed_args.sample_values and report.missing:
                samples = sample_values(p for p in report.parameters if p.name in report.missing)
                report = check(
                    bundled.template,
                    registry,
                    {**(values or {}), **samples},
                    environments=environments,
                    files=bundled.files,
                )
        except TemplateInvalidError as exc:  # too large: refused before parsing
            report_problems = exc.problems
        else:
            report_problems = report.problems
        if report_problems:
            shown = []
            for name in dict.fromkeys(p.file for p in report_problems):
                mine = [p for p in report_problems if p.file == name]
                where, text = _source(bundled, name, path)
                shown.append(render(mine, where, text))
            self.app.stderr.write("\n".join(shown) + "\n")
            count = len(report_problems)
            raise ReportedError(f"{path}: {count} problem{'s' if count > 1 else ''} found")
        if parsed_args.show_parameters:
            rows = [
                [
                    p.name,
                    str(p.type),
                    "yes" if not p.has_default else "no",
                    _shown(p.default, p.hidden) if p.has_default else "",
                    p.description,
                ]
                for p in report.parameters
            ]
            return ["Name", "Type", "Required", "Default", "Description"], rows
        if report.missing:
            self.app.stderr.write(
                "valid; parameters that need values to build: "
                + ", ".join(report.missing)
                + " (see --show-parameters)\n"
            )
        rows = []
        for level, names in enumerate(report.levels):
            for name in names:
                rows.append(
                    [
                        level,
                        name,
                        report.resource_types.get(name, ""),
                        ", ".join(report.dependencies.get(name, ())),
                    ]
                )
        return ["Level", "Resource", "Type", "Depends on"], rows

    def _remote(
        self, parsed_args: argparse.Namespace, bundled: Bundle, values: dict[str, Any] | None
    ) -> tuple[list[str], list[list[Any]]]:
        if parsed_args.sample_values:
            raise ReportedError("--sample-values is for offline validation only")
        path = parsed_args.template
        request: dict[str, Any] = bundled.fields()
        if values:
            request["parameters"] = values
        try:
            answer = self.client.validate(request)
        except (ApiError, ApiUnreachableError) as exc:
            raise self.reported(exc, path, bundled.original, bundled.sources) from None
        if parsed_args.show_parameters:
            rows = [
                [
                    p["name"],
                    p.get("type"),
                    "yes" if "default" not in p else "no",
                    _shown(p["default"], bool(p.get("hidden"))) if "default" in p else "",
                    p.get("description", ""),
                ]
                for p in answer.get("parameters", ())
            ]
            return ["Name", "Type", "Required", "Default", "Description"], rows
        missing = answer.get("missing_parameters") or []
        if missing:
            self.app.stderr.write(
                "valid; parameters that need values to build: "
                + ", ".join(missing)
                + " (see --show-parameters)\n"
            )
        rows = [
            [r["level"], r["name"], r.get("type", ""), ", ".join(r.get("depends_on", ()))]
            for r in answer.get("resources", ())
        ]
        return ["Level", "Resource", "Type", "Depends on"], rows


def _shown(value: Any, hidden: bool) -> str:
    if hidden:
        return "******"
    return value if isinstance(value, str) else json.dumps(value)


def _source(bundled: Bundle, name: str | None, path: str) -> tuple[str, str]:
    """Where a problem's lines are: an environment file as given with -e, a nested
    template by its path (its text as sent: only the names of its own files differ,
    on the same lines), else the template itself."""
    if name is not None and name in bundled.sources:
        return bundled.sources[name]
    if name is not None and name in bundled.files and urlsplit(name).scheme == "file":
        local = Path(unquote(urlsplit(name).path))
        with contextlib.suppress(ValueError):
            local = local.relative_to(Path.cwd())
        return str(local), bundled.files[name]
    return path, bundled.original
