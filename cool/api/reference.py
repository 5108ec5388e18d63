"""The API reference in Markdown, generated from the OpenAPI document the API serves,
so that the two cannot disagree (a test checks ``docs/api-reference.md`` is fresh).

    python -m cool.api.reference > docs/api-reference.md
"""

from __future__ import annotations

import sys
from importlib import resources
from typing import Any

import yaml

_METHODS = ("get", "post", "put", "patch", "delete")


def load() -> dict[str, Any]:
    text = resources.files("cool.api").joinpath("openapi.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def _type(schema: dict[str, Any]) -> str:
    """A schema in a few words: its type, or the schema it refers to (linked)."""
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{'null' if value is None else value}`" for value in schema["enum"])
    if isinstance(kind, list):
        return " or ".join(kind)
    if "oneOf" in schema or "anyOf" in schema:
        return " or ".join(_type(s) for s in schema.get("oneOf") or schema["anyOf"])
    return str(kind or "any")


def _cell(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def _operation(spec: dict[str, Any], path: str, method: str, item: dict[str, Any]) -> list[str]:
    op = item[method]
    out = [f"### `{method.upper()} {path}`", "", _cell(op.get("summary")), ""]
    if op.get("description"):
        out += [op["description"].strip(), ""]
    if op.get("security") == []:
        out += ["No authentication.", ""]
    parameters = [_resolve(spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]
    if parameters:
        out += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        for p in parameters:
            required = "yes" if p.get("required") else ""
            out.append(
                f"| `{p['name']}` | {p['in']} | {_type(p.get('schema', {}))} | {required} "
                f"| {_cell(p.get('description'))} |"
            )
        out.append("")
    body = op.get("requestBody")
    if body:
        kinds = ", ".join(
            f"`{media}`: {_type(content.get('schema', {}))}"
            for media, content in body.get("content", {}).items()
        )
        out += [f"Request body: {kinds}.", ""]
    out += ["| status | meaning | body |", "|---|---|---|"]
    for status, response in op.get("responses", {}).items():
        answer = _resolve(spec, response)
        schemas = [c.get("schema", {}) for c in answer.get("content", {}).values()]
        shown = ", ".join(_type(_body_schema(s)) for s in schemas)
        out.append(f"| {status} | {_cell(answer.get('description'))} | {shown} |")
    out.append("")
    return out


def _body_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``{"build": Build}`` and the like are shown as what they wrap."""
    properties = schema.get("properties", {})
    wrapped = [p for name, p in properties.items() if name != "links"]
    if schema.get("type") == "object" and len(wrapped) == 1:
        return wrapped[0]
    return schema


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"### {name}", ""]
    if schema.get("description"):
        out += [schema["description"].strip(), ""]
    properties = schema.get("properties")
    if not properties:
        return [*out, f"Type: {_type(schema)}.", ""]
    required = set(schema.get("required", ()))
    out += ["| field | type | required | description |", "|---|---|---|---|"]
    for field, prop in properties.items():
        mark = "yes" if field in required else ""
        out.append(f"| `{field}` | {_type(prop)} | {mark} | {_cell(prop.get('description'))} |")
    out.append("")
    return out


def render(spec: dict[str, Any]) -> str:
    info = spec["info"]
    out = [
        f"# {info['title']} API reference (version {info['version']})",
        "",
        "<!-- Generated from cool/api/openapi.yaml by `python -m cool.api.reference`;"
        " do not edit. -->",
        "",
        info.get("summary", ""),
        "",
        info.get("description", "").strip(),
        "",
        "A running cool-api serves the same document at `/v1/openapi.json`;"
        " [api.md](api.md) explains the API with examples.",
        "",
        "## Operations",
        "",
    ]
    for path, item in spec["paths"].items():
        for method in _METHODS:
            if method in item:
                out += _operation(spec, path, method, item)
    out += ["## Schemas", ""]
    for name, schema in spec["components"]["schemas"].items():
        out += _schema(name, schema)
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    sys.stdout.write(render(load()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
