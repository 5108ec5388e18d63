#!/usr/bin/env python3
"""Run every template of a Heat corpus through cool's validator and report.

Writes docs/heat-compatibility.md: which templates cool accepts (given sample
values for parameters without defaults), which it refuses and for which
unsupported features, and which are not templates at all (environment files).

    .venv/bin/python scripts/heat_compat.py [CORPUS_DIR] [--output FILE]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from cool.cli.bundle import bundle
from cool.cli.diagnostics import ReportedError
from cool.resources.heat_types import Gap, gap
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
from cool.template.problems import Code, Problem
from cool.template.samples import sample_values

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "tests" / "data" / "heat-templates" / "hot"
UNSUPPORTED = frozenset(
    {
        Code.UNSUPPORTED_FEATURE,
        Code.UNSUPPORTED_FUNCTION,
        Code.UNSUPPORTED_RESOURCE_TYPE,
        Code.UNSUPPORTED_PROPERTY,
    }
)


# Values a template needs beyond what sample_values can guess from declarations.
OVERRIDES: dict[str, dict[str, object]] = {
    # The index must point into the list of lengths, which must be numbers.
    "resource_group/random.yaml": {"lengths": "8,16", "index": 1},
    # Addresses without constraints that say so; the subnet checks them.
    "servers_in_new_neutron_net.yaml": {
        "private_net_cidr": "10.0.0.0/24",
        "private_net_gateway": "10.0.0.1",
        "private_net_pool_start": "10.0.0.10",
        "private_net_pool_end": "10.0.0.200",
    },
    # A password whose pattern (lookaheads) sample_values cannot satisfy by guessing.
    "Windows/IIS_Drupal/IIS_Drupal.yaml": {"sa_password": "Sample-Passw0rd"},
}

# Templates of the corpus that Heat itself refuses, with what it refuses: cool must
# refuse them for that reason and for no other (verdict "invalid-in-heat").
INVALID_IN_HEAT: dict[str, tuple[Code, str]] = {
    # Heat's OS::Octavia::HealthMonitor has no max_retries_down (Octavia's API has).
    "octavia/servers_with_octavia.yaml": (Code.UNKNOWN_PROPERTY, "'max_retries_down'"),
}


@dataclass(frozen=True)
class Outcome:
    path: str
    verdict: str  # accepted, refused, invalid-in-heat, environment, not-a-template, error
    problems: tuple[Problem, ...] = ()
    resources: int = 0


def kind_of_file(text: str) -> str:
    """template, environment (Heat's parameter/registry files) or other YAML."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return "template"  # let the validator say what is wrong with it
    if not isinstance(data, dict) or {"heat_template_version", "resources"} & set(data):
        return "template"
    environment = {
        "parameters",
        "parameter_defaults",
        "resource_registry",
        "event_sinks",
        "encrypted_param_names",
        "parameter_merge_strategies",
    }
    return "environment" if set(data) <= environment else "not-a-template"


def classify(path: Path, root: Path, registry: ResourceTypeRegistry) -> Outcome:
    name = str(path.relative_to(root))
    raw = path.read_bytes()
    kind = kind_of_file(raw.decode("utf-8", "replace"))
    if kind != "template":
        return Outcome(name, kind)
    text, files = _bundled(path, raw)  # get_file's files, as `cool submit` sends them
    report = check(text, registry, files=files)
    if report.problems:
        verdict = "refused" if all(p.code in UNSUPPORTED for p in report.problems) else "error"
        if name in INVALID_IN_HEAT:
            code, said = INVALID_IN_HEAT[name]
            if all(p.code is code and said in p.message for p in report.problems):
                verdict = "invalid-in-heat"
        return Outcome(name, verdict, report.problems)
    values = {**sample_values(report.parameters), **OVERRIDES.get(name, {})}
    full = check(text, registry, values, files=files)
    if full.problems:
        return Outcome(name, "error", full.problems)
    assert full.plan is not None
    return Outcome(name, "accepted", resources=len(full.plan.resources))


def _bundled(path: Path, raw: bytes) -> tuple[str | bytes, dict[str, str]]:
    """The template and the files it names, read as the CLI reads them. The corpus
    keeps only templates: a file it lacks (a script, a PowerShell module) is given
    as empty text, as its author would have it at hand."""
    try:
        bundled = bundle(str(path))
    except ReportedError:
        return raw, dict.fromkeys(_get_file_names(raw), "")
    return bundled.template, bundled.files


def _get_file_names(raw: bytes) -> set[str]:
    try:
        stack = [yaml.safe_load(raw)]
    except yaml.YAMLError:
        return set()
    names: set[str] = set()
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("get_file"), str):
                names.add(node["get_file"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names


def run(root: Path, registry: ResourceTypeRegistry) -> list[Outcome]:
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    return [classify(p, root, registry) for p in files]


def feature_of(problem: Problem) -> str:
    """The unsupported feature a problem names, for the summary table."""
    message = problem.message
    if message.startswith("resources.") and ": " in message:
        message = message.split(": ", 1)[1]  # where a property problem is, not what
    if problem.code is Code.UNSUPPORTED_RESOURCE_TYPE:
        return message.split("'")[1] if "'" in message else message
    if problem.code is Code.UNSUPPORTED_FUNCTION:
        return "function " + message.split("'")[1]
    if problem.code is Code.UNSUPPORTED_PROPERTY:
        parts = message.split("'")
        return f"{message.split(' of ')[1].split(' is')[0]} property {parts[1]}"
    return message.split(":")[0] if ":" in message else message


ENVIRONMENT = "environment"  # a type name only one of the corpus's environment files maps
# Refusals that are not of a Heat type, by the feature they name: what they need.
FEATURE_GAPS: dict[str, str] = {
    # user_data_format SOFTWARE_CONFIG: the server's agent fetches its configuration.
    "SOFTWARE_CONFIG needs Heat's software deployment": Gap.AGENT,
    # heat-templates' boot-config environments map it to a template that installs
    # the agent; without one, Heat does not know the name either.
    "Heat::InstallConfigAgent": Gap.AGENT,
    # OS::Heat::Stack's context.region_name: a second region is not run here.
    "a nested stack in another region is not supported": Gap.SERVICE,
    # Only mistral/nova_networking_server_with_ip_env.yaml maps it (to a template cool
    # accepts); Heat does not know the name without that file either.
    "NovaNetwork::Server": ENVIRONMENT,
}
NOT_BUILT = "not built"


def gap_of(feature: str) -> str:
    """What a refused feature needs: an agent, a service, updates, or it is not built."""
    for prefix, need in FEATURE_GAPS.items():
        if feature.startswith(prefix):
            return need
    found = gap(feature)
    return found[0] if found else NOT_BUILT


def render(outcomes: list[Outcome]) -> str:
    counts = Counter(o.verdict for o in outcomes)
    templates = len(outcomes) - counts["environment"] - counts["not-a-template"]
    lines = [
        "# Heat compatibility",
        "",
        "Generated by `scripts/heat_compat.py` from the `hot/` templates of the public",
        "openstack/heat-templates repository (kept in `tests/data/heat-templates`).",
        "`tests/template/test_heat_corpus.py` checks the same verdicts in CI: no template",
        "crashes the validator, and every refusal names only unsupported features.",
        "",
        f"- templates: {templates} (plus {counts['environment']} Heat environment files and "
        f"{counts['not-a-template']} other YAML files, which are not templates)",
        f"- accepted: {counts['accepted']} (validated and compiled to a plan, with sample "
        "values for parameters that have no default)",
        f"- refused: {counts['refused']} (every problem names an unsupported feature)",
        f"- invalid in Heat too: {counts['invalid-in-heat']} (refused for what Heat refuses "
        "them for)",
        f"- other errors: {counts['error']}",
        "",
    ]
    features: Counter[str] = Counter()
    for outcome in outcomes:
        if outcome.verdict == "refused":
            features.update({feature_of(p) for p in outcome.problems})
    if features:
        lines += [
            "## Why templates are refused",
            "",
            "What each needs: `agent` (Heat's agent inside the server), `service` (an",
            "OpenStack service cool does not build with, or a second region), `updates`",
            "(it changes a build after it is complete), `environment` (a type name that",
            "only an environment file of the corpus maps: Heat refuses it without that file",
            "too), `not built` (cool could, and does not yet).",
            "",
            "| unsupported feature | needs | templates |",
            "| --- | --- | --- |",
        ]
        lines += [
            f"| {f} | {gap_of(f)} | {n} |"
            for f, n in sorted(features.items(), key=lambda i: (-i[1], i[0]))
        ]
        lines.append("")
    lines += ["## Every file", "", "| file | verdict | detail |", "| --- | --- | --- |"]
    for outcome in outcomes:
        if outcome.verdict == "accepted":
            detail = f"{outcome.resources} resources"
        elif outcome.verdict == "environment":
            detail = "Heat environment file"
        elif outcome.verdict == "not-a-template":
            detail = "YAML data of another tool"
        else:
            detail = "; ".join(sorted({feature_of(p) for p in outcome.problems}))
            if outcome.verdict in ("error", "invalid-in-heat"):
                detail = "; ".join(f"{p.code}: {p.message}" for p in outcome.problems[:3])
        lines.append(f"| `{outcome.path}` | {outcome.verdict} | {detail.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "heat-compatibility.md")
    args = parser.parse_args(argv)
    outcomes = run(args.corpus, ResourceTypeRegistry.load())
    args.output.write_text(render(outcomes), encoding="utf-8")
    errors = [o for o in outcomes if o.verdict == "error"]
    for outcome in errors:
        for problem in outcome.problems:
            print(
                f"{outcome.path}:{problem.line}:{problem.column}: {problem.code}: "
                f"{problem.message}",
                file=sys.stderr,
            )
    counts = Counter(o.verdict for o in outcomes)
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
