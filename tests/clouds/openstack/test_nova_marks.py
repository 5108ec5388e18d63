"""Nova objects without tags carry cool's mark in their names: always within Nova's
limits."""

from __future__ import annotations


def test_a_server_groups_name_fits_novas_limit_whatever_the_resource_name() -> None:
    """A mark of 253 characters or more made a group name past Nova's 255 (a 400)."""
    from cool.clouds.base import MAX_CLOUD_NAME, StepContext
    from cool.clouds.openstack.nova_extra import _group_name, _unmarked

    for length in (10, 200, 240, 255):
        name = "/".join(["g" * 200] * 5)[:length]
        ctx = StepContext("01ARZ3NDEKTSV4RRFFQ69G5FAV", name, "OS::Nova::ServerGroup", "p")
        group = _group_name(ctx, {"name": "web"})
        assert len(group) <= MAX_CLOUD_NAME, length
        assert _unmarked(ctx, group) == "web"
