"""Heat's configuration types rendered as Heat renders them (multi_part.py, cloud_config.py)."""

from __future__ import annotations

import email
import re
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import yaml

from cool.clouds import heat_configs as configs

SCRIPT = "#!/bin/sh\necho hi\n"


def _heat_multipart(parts: list[dict[str, str]]) -> str:
    """Heat's MultipartMime.get_message, for text parts (its boundary is random)."""
    subparts = []
    for item in parts:
        part, subtype, filename = item["config"], item.get("subtype", ""), item.get("filename", "")
        if not subtype and filename:
            subtype = filename.rsplit(".", 1)[0] if "." in filename else filename
        try:
            part.encode("us-ascii")
            charset = "us-ascii"
        except UnicodeEncodeError:
            charset = "utf-8"
        msg = (
            MIMEText(part, _subtype=subtype, _charset=charset)
            if subtype
            else MIMEText(part, _charset=charset)
        )
        if filename:
            msg.add_header("Content-Disposition", "attachment", filename=filename)
        subparts.append(msg)
    return MIMEMultipart(_subparts=subparts).as_string()


def _unbounded(text: str) -> str:
    """A message with its boundary replaced: Heat's is random, so compare without it."""
    boundaries = set(re.findall(r'boundary="([^"]+)"', text))
    for boundary in boundaries:
        text = text.replace(boundary, "BOUNDARY")
    return text


def test_multipart_is_heats_message_up_to_its_boundary() -> None:
    parts = [
        {"config": SCRIPT, "filename": "boot.sh", "subtype": "x-shellscript"},
        {"config": "#cloud-config\npackages: [nginx]\n", "subtype": "cloud-config"},
        {"config": "plain"},
        {"config": "naïve utf-8 text", "filename": "notes.txt"},
    ]
    ours = configs.render(configs.MULTIPART_MIME, {"parts": parts})
    assert _unbounded(ours) == _unbounded(_heat_multipart(parts))
    assert configs.render(configs.MULTIPART_MIME, {"parts": parts}) == ours  # deterministic
    message = email.message_from_string(ours)
    assert [p.get_content_type() for p in message.get_payload()] == [
        "text/x-shellscript", "text/cloud-config", "text/plain", "text/notes",
    ]  # fmt: skip


def test_multipart_splices_a_multipart_part_as_heat_does() -> None:
    inner = configs.render(
        configs.MULTIPART_MIME, {"parts": [{"config": SCRIPT, "subtype": "x-shellscript"}]}
    )
    outer = configs.render(
        configs.MULTIPART_MIME,
        {"parts": [{"config": inner, "type": "multipart"}, {"config": "more"}]},
    )
    payload = email.message_from_string(outer).get_payload()
    assert [p.get_content_type() for p in payload] == ["text/x-shellscript", "text/plain"]
    assert payload[0].get_payload() == SCRIPT


def test_cloud_config_is_heats_document() -> None:
    data = {"packages": ["nginx"], "runcmd": [["echo", "hi"]], "write_files": [{"path": "/a"}]}
    rendered = configs.render(configs.CLOUD_CONFIG, {"cloud_config": data})
    assert rendered.startswith("#cloud-config\n")
    assert yaml.safe_load(rendered) == data
    assert rendered == "#cloud-config\n" + yaml.dump(data, Dumper=yaml.SafeDumper)


def test_software_config_gives_its_text_and_a_structured_one_its_map() -> None:
    assert configs.render(configs.SOFTWARE_CONFIG, {"config": SCRIPT}) == SCRIPT
    assert configs.reference(configs.SOFTWARE_CONFIG, SCRIPT) == SCRIPT
    assert configs.render(configs.STRUCTURED_CONFIG, {"config": {"a": 1}}) == {"a": 1}
