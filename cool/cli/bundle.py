"""A template and its environments bundled as python-heatclient bundles them.

``get_file`` names and template-resource names (a ``type`` ending in .yaml or
.template, and registry entries that name a file) are read relative to the
file that names them, sent in ``files`` keyed by their absolute ``file://``
URL, and rewritten to that URL in the text, as heatclient's
``template_utils`` does. The text is rewritten in place, one scalar at a
time, so the lines the API reports still match the user's file. Each ``-e``
environment is sent in ``files`` too, under its own URL, listed in
``environment_files`` in order. Nothing is fetched from the network: an
``http(s)://`` name is refused.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import yaml

from cool.cli.diagnostics import ReportedError

TEMPLATE_SUFFIXES = (".yaml", ".template")
_REGISTRY_SKIPPED = frozenset({"base_url", "hooks", "restricted_actions"})


@dataclass
class Bundle:
    """What a submit or validate request carries besides the template's parameters."""

    template: str
    original: str = ""  # the template as the user wrote it, to show its lines
    files: dict[str, str] = field(default_factory=dict)
    environment_files: list[str] = field(default_factory=list)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # URL -> (path, text)

    def fields(self) -> dict[str, object]:
        out: dict[str, object] = {"template": self.template}
        if self.files:
            out["files"] = self.files
        if self.environment_files:
            out["environment_files"] = self.environment_files
        return out


def bundle(template_path: str, environment_paths: list[str] | None = None) -> Bundle:
    """Read the template (``-``: stdin), its files and environments."""
    if template_path == "-":
        text = _decode(sys.stdin.buffer.read(), "stdin")
        base = Path.cwd().as_uri() + "/"
    else:
        url = Path(template_path).resolve().as_uri()
        text = _read(url, template_path)
        base = url
    result = Bundle("", text)
    result.template = _rewrite(text, base, result.files, _template_names, template_path)
    for path in environment_paths or ():
        url = Path(path).resolve().as_uri()
        if url in result.environment_files:  # the API refuses a file listed twice
            raise ReportedError(f"{path}: given twice with -e (each environment is merged once)")
        env_text = _read(url, path)
        result.files[url] = _rewrite(env_text, url, result.files, _registry_names, path)
        result.environment_files.append(url)
        result.sources[url] = (path, env_text)
    return result


def _read(url: str, shown: str) -> str:
    try:
        raw = Path(url2pathname(urlsplit(url).path)).read_bytes()
    except OSError as exc:
        raise ReportedError(f"cannot read {shown}: {exc.strerror}") from None
    return _decode(raw, shown)


def _decode(raw: bytes, shown: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReportedError(f"{shown} is not UTF-8 text: {exc}") from None


def _template_names(path: tuple[str | int, ...], key: str, value: str) -> bool:
    return key == "get_file" or (key == "type" and value.endswith(TEMPLATE_SUFFIXES))


def _registry_names(path: tuple[str | int, ...], key: str, value: str) -> bool:
    if not path or path[0] != "resource_registry" or key in _REGISTRY_SKIPPED:
        return False
    if "::" in value:  # a resource type, not a file (heatclient's rule)
        return False
    return len(path) == 1 or (len(path) == 3 and path[1] == "resources")


Wanted = Callable[[tuple[str | int, ...], str, str], bool]


def _rewrite(text: str, base: str, files: dict[str, str], wanted: Wanted, shown: str) -> str:
    """``text`` with each wanted name replaced by its URL; the files read into ``files``."""
    spans: list[tuple[int, int, str]] = []
    for start, end, line, value in _scalars(text, wanted, shown):
        if urlsplit(value).scheme in ("http", "https"):
            raise ReportedError(
                f"{shown}:{line}: {value} is a URL: cool never fetches one; download it and "
                "name the local file"
            )
        url = urljoin(base, value)
        if urlsplit(url).scheme != "file":
            raise ReportedError(f"{shown}:{line}: cannot read {value}: only local files are read")
        if url not in files:  # recorded before recursing: nested templates may name each other
            files[url] = content = _read(url, value)
            if value.endswith(TEMPLATE_SUFFIXES) and _is_template(content):
                # A nested template: its own files too. Anything else (an Ansible playbook
                # named .yaml, a file no type uses) goes as it is, as heatclient sends it.
                files[url] = _rewrite(content, url, files, _template_names, value)
        spans.append((start, end, url))
    for start, end, url in sorted(spans, reverse=True):
        text = text[:start] + json.dumps(url) + text[end:]
    return text


_VERSION_KEYS = ("heat_template_version", "HeatTemplateFormatVersion", "AWSTemplateFormatVersion")


def _is_template(text: str) -> bool:
    """heatclient's ``is_template``: YAML (or JSON) with a template version key."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError):  # a bad date; nesting past limits
        return False
    return isinstance(data, dict) and any(key in data for key in _VERSION_KEYS)


def _scalars(text: str, wanted: Wanted, shown: str) -> Iterator[tuple[int, int, int, str]]:
    """(start, end, line, value) of each string value of a mapping that ``wanted`` picks."""
    stack: list[list] = []  # [path, is_mapping, pending key, next index]
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                stack.append([_here(stack), isinstance(event, yaml.MappingStartEvent), None, 0])
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                stack.pop()
                _advance(stack)
            elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
                top = stack[-1] if stack else None
                if top is not None and top[1] and top[2] is None:
                    top[2] = event.value if isinstance(event, yaml.ScalarEvent) else ""
                    continue
                if (
                    top is not None
                    and top[1]
                    and isinstance(event, yaml.ScalarEvent)
                    and event.value
                    and wanted(top[0], top[2], event.value)
                ):
                    yield (
                        event.start_mark.index,
                        event.end_mark.index,
                        event.start_mark.line + 1,
                        event.value,
                    )
                _advance(stack)
    except yaml.YAMLError as exc:
        raise ReportedError(f"cannot read {shown}: {exc}") from None


def _here(stack: list[list]) -> tuple[str | int, ...]:
    if not stack:
        return ()
    top = stack[-1]
    return (*top[0], top[2] if top[1] else top[3])


def _advance(stack: list[list]) -> None:
    if stack:
        top = stack[-1]
        if top[1]:
            top[2] = None
        else:
            top[3] += 1
