"""Resource znode names: nested names encoded collision-free and back (pure)."""

from __future__ import annotations

import pytest

from cool.store.layout import IdInvalidError, Layout, resource_name, resource_znode

BUILD_ID = "01JDQ3S7F8M2V5X9Z0ABCDEFGH"
RESOURCES = f"/cool/builds/GH/{BUILD_ID}/resources"
LONGEST = "/".join(["x" * 64] + ["x" * 63] * 15)  # 16 components, 1,024 characters


def test_plain_names_keep_their_znode_names() -> None:
    # Builds stored before nested stacks stay readable.
    for name in ("web", "a.b-c_d", "0", "x" * 255):
        assert resource_znode(name) == name
        assert Layout("/cool").resource(BUILD_ID, name) == f"{RESOURCES}/{name}"


@pytest.mark.parametrize(
    "name", ["web/0", "web/0/server", "a.b/c-d/_e", "/".join(["n"] * 16), LONGEST]
)
def test_nested_names_round_trip_through_one_znode_name(name: str) -> None:
    znode = resource_znode(name)
    assert "/" not in znode
    assert resource_name(znode) == name
    assert Layout("/cool").resource(BUILD_ID, name) == f"{RESOURCES}/{znode}"


def test_nested_znode_names_never_collide_with_plain_ones() -> None:
    plain = ["web", "web.0", "web-0", "web_0", "web0", "web.0.server", "web-0-server"]
    nested = ["web/0", "web/0/server", "web/0.server", "web.0/server"]
    znodes = [resource_znode(n) for n in plain + nested]
    assert len(set(znodes)) == len(znodes)
    assert [resource_name(z) for z in znodes] == plain + nested


@pytest.mark.parametrize(
    "bad",
    [
        "/".join(["n"] * 17),  # 17 components: deeper than 5 nesting levels
        LONGEST + "x",  # 1,025 characters
        "web//server",  # an empty component
        "web/",
        "/web",
        "web/0~server",  # the encoding's own character
        "web~0",
        "web/../x",
        "web/.hidden",
        "web/caf\u00e9",
        "web/0/" + "x" * 256,
    ],
)
def test_bad_nested_names_are_refused(bad: str) -> None:
    with pytest.raises(IdInvalidError):
        Layout("/cool").resource(BUILD_ID, bad)
    with pytest.raises(IdInvalidError):
        resource_znode(bad)


@pytest.mark.parametrize("bad", ["", "web~", "~web", "web~~0", "..", "web/0"])
def test_decoding_refuses_znode_names_the_encoding_never_makes(bad: str) -> None:
    with pytest.raises(IdInvalidError):
        resource_name(bad)
