"""docs/api-reference.md is what cool.api.reference makes of the served OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from cool.api import reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "api-reference.md"


def test_the_api_reference_is_generated_from_the_current_document() -> None:
    assert DOC.read_text() == reference.render(reference.load()), (
        "docs/api-reference.md is stale: python -m cool.api.reference > docs/api-reference.md"
    )


def test_every_operation_of_the_document_is_in_the_reference() -> None:
    spec = reference.load()
    text = DOC.read_text()
    for path, item in spec["paths"].items():
        for method in ("get", "post", "delete"):
            if method in item:
                assert f"### `{method.upper()} {path}`" in text
