"""Every template of Heat's own corpus: accepted, or refused for unsupported features only."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from cool.resources.registry import ResourceTypeRegistry

REPO = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("heat_compat", REPO / "scripts/heat_compat.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["heat_compat"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


heat_compat = _load_script()
CORPUS: Path = heat_compat.DEFAULT_CORPUS
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))


def test_corpus_is_present() -> None:
    assert len(FILES) > 100, f"the Heat corpus is missing from {CORPUS}"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_corpus_template_accepted_or_refused_for_unsupported_features(
    path: Path, registry: ResourceTypeRegistry
) -> None:
    outcome = heat_compat.classify(path, CORPUS, registry)
    details = [f"{p.line}:{p.column} {p.code}: {p.message}" for p in outcome.problems]
    assert outcome.verdict != "error", "\n".join(details)
    if outcome.verdict == "refused":
        assert outcome.problems
        assert all(p.line is not None and p.pointer for p in outcome.problems), details


def test_corpus_accepts_templates_using_supported_types(registry: ResourceTypeRegistry) -> None:
    outcomes = heat_compat.run(CORPUS, registry)
    accepted = {o.path for o in outcomes if o.verdict == "accepted"}
    assert {"hello_world.yaml", "servers_in_new_neutron_net.yaml"} <= accepted


def test_refusals_need_an_agent_a_service_or_updates(registry: ResourceTypeRegistry) -> None:
    """Every refusal of the corpus names what cool would need: an agent inside the
    server, a service not run here, or stack updates; none is a type cool could build
    and has not."""
    outcomes = heat_compat.run(CORPUS, registry)
    features = {
        heat_compat.feature_of(p): o.path
        for o in outcomes
        if o.verdict == "refused"
        for p in o.problems
    }
    not_built = {f: path for f, path in features.items() if heat_compat.gap_of(f) == "not built"}
    assert not not_built


def test_compatibility_document_is_fresh(registry: ResourceTypeRegistry) -> None:
    """docs/heat-compatibility.md is what scripts/heat_compat.py generates now."""
    expected = heat_compat.render(heat_compat.run(CORPUS, registry))
    committed = (REPO / "docs" / "heat-compatibility.md").read_text(encoding="utf-8")
    assert committed == expected, "run: .venv/bin/python scripts/heat_compat.py"
