"""What Heat's configuration types render (OS::Heat::SoftwareConfig, ::StructuredConfig,
::CloudConfig, ::MultipartMime): their ``config`` attribute, made from their properties
alone, so any worker renders the same text again after a takeover.

Heat stores a config and hands out its id; a server whose ``user_data`` is that id
(``user_data_format: RAW``) boots with the config's text, and a MultipartMime part
naming one takes its text. cool keeps no config store: ``get_resource`` of a config
gives its text itself, which is what reaches the server either way.

MultipartMime follows Heat's algorithm (heat/engine/resources/openstack/heat/
multi_part.py): a text/* MIME part per item (subtype given, or the filename's stem;
us-ascii unless the text needs utf-8; a Content-Disposition attachment with the
filename), items of type ``multipart`` spliced in part by part. Heat's boundary is
random; cool's is derived from the parts, so a takeover renders the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from email import message_from_string
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import yaml

SOFTWARE_CONFIG = "OS::Heat::SoftwareConfig"
STRUCTURED_CONFIG = "OS::Heat::StructuredConfig"
CLOUD_CONFIG = "OS::Heat::CloudConfig"
MULTIPART_MIME = "OS::Heat::MultipartMime"
TYPES = frozenset({SOFTWARE_CONFIG, STRUCTURED_CONFIG, CLOUD_CONFIG, MULTIPART_MIME})


def render(kind: str, properties: Mapping[str, Any]) -> Any:
    """The ``config`` attribute of a configuration resource."""
    if kind == CLOUD_CONFIG:
        body = yaml.dump(properties.get("cloud_config") or {}, Dumper=yaml.SafeDumper)
        return f"#cloud-config\n{body}"
    if kind == MULTIPART_MIME:
        return multipart(properties.get("parts") or [])
    if kind == STRUCTURED_CONFIG:
        return properties.get("config") or {}
    return properties.get("config") or ""


def reference(kind: str, config: Any) -> str:
    """What ``get_resource`` gives: the text a server or a MultipartMime part takes."""
    return config if isinstance(config, str) else json.dumps(config, sort_keys=True)


def multipart(parts: list[Any]) -> str:
    subparts: list[MIMEText] = []
    for item in parts:
        if not isinstance(item, Mapping):
            continue
        config = item.get("config")
        text = config if isinstance(config, str) else json.dumps(config, sort_keys=True)
        if item.get("type", "text") == "multipart":
            _splice(subparts, text)
        else:
            _append(subparts, text, item.get("subtype") or "", item.get("filename") or "")
    boundary = (
        "==============="
        + hashlib.sha256(
            "\0".join(p.as_string() for p in subparts).encode("utf-8", "surrogatepass")
        ).hexdigest()[:19]
        + "=="
    )
    return MIMEMultipart(_subparts=subparts, boundary=boundary).as_string()


def _splice(subparts: list[MIMEText], text: str) -> None:
    message = message_from_string(text)
    if not message or not message.is_multipart():
        return
    for part in message.get_payload():
        _append(subparts, part.get_payload(), part.get_content_subtype(), part.get_filename())


def _append(subparts: list[MIMEText], text: str, subtype: str, filename: str | None) -> None:
    if not subtype and filename:
        subtype = os.path.splitext(filename)[0]
    try:
        text.encode("us-ascii")
        charset = "us-ascii"
    except UnicodeEncodeError:
        charset = "utf-8"
    message = (
        MIMEText(text, _subtype=subtype, _charset=charset)
        if subtype
        else MIMEText(text, _charset=charset)
    )
    if filename:
        message.add_header("Content-Disposition", "attachment", filename=filename)
    subparts.append(message)
