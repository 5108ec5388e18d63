"""The marks a server carries as Nova tags: Nova refuses a tag with ``/`` or ``,``
(``^[^,/]*$``), so a group member's or a nested stack's server must be marked without
them, one-to-one (found on the mini cloud: a plain server as a group member failed)."""

from __future__ import annotations

import re

import pytest

from cool.clouds.openstack.identity import nova_tags
from tests.clouds.helpers import ctx

NOVA_TAG = re.compile(r"^[^,/]*$")


@pytest.mark.parametrize("name", ["web", "asg/2", "web/0/server", "a/" * 10 + "b", "x" * 200])
def test_nova_tags_are_what_nova_takes(name: str) -> None:
    tags = nova_tags(ctx(name, "OS::Nova::Server"))
    assert all(NOVA_TAG.match(tag) and len(tag) <= 60 for tag in tags), tags


def test_nested_names_stay_apart() -> None:
    names = ["asg/2", "asg~2", "asg.2", "asg/2/s", "asg/2s"]
    marks = {nova_tags(ctx(name, "OS::Nova::Server"))[1] for name in names if "~" not in name}
    assert len(marks) == len(names) - 1
    assert nova_tags(ctx("web", "OS::Nova::Server"))[1] == "cool-resource=web"  # as before
