"""``external_id`` on a real cloud: a build adopts resources made outside it, reads
them, and leaves them exactly as they were (no tag, no mark, no delete)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project, unique

pytestmark = pytest.mark.openstack

ADOPTED = """
heat_template_version: 2016-10-14
parameters:
  net: {type: string}
  public: {type: string}
  key: {type: string}
resources:
  net: {type: OS::Neutron::Net, external_id: {get_param: net}}
  public: {type: OS::Neutron::Net, external_id: {get_param: public}}
  key: {type: OS::Nova::KeyPair, external_id: {get_param: key}}
outputs:
  net: {value: {get_attr: [net, name]}}
  public: {value: {get_attr: [public, name]}}
  key: {value: {get_attr: [key, public_key]}}
"""


def _public_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{raw.decode()} someone@laptop"


def test_resources_adopted_by_external_id_are_read_and_left_untouched(
    cool: CoolOnCloud, mini_cloud: MiniCloud
) -> None:
    """The project's own network, another project's (the admin's external
    ``public``, which a member may read but not tag) and a key pair cool never
    marked: adopted, read, and after the build's delete still there, unchanged."""
    project = Project.create(mini_cloud)
    conn = project.conn
    net = conn.network.create_network(name=unique("theirs"), description="the user's own")
    public = conn.network.find_network("public", ignore_missing=False)
    public_tags = sorted(public.tags or ())
    key_name, public_key = unique("key"), _public_key()
    conn.compute.create_keypair(name=key_name, public_key=public_key)
    before = project.counts()

    cool.worker().start()
    client = Client.of(cool, project)
    submitted = client.submit(
        ADOPTED,
        name=unique("adopts"),
        parameters={"net": net.id, "public": public.id, "key": key_name},
    )
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "CREATE_COMPLETE", build
    outputs = {name: output["value"] for name, output in build["outputs"].items()}
    assert outputs == {"net": net.name, "public": "public", "key": public_key}
    resources = client.resources(submitted["id"])
    assert {n: r["physical_id"] for n, r in resources.items()} == {
        "net": net.id,
        "public": public.id,
        "key": key_name,
    }

    client.delete(submitted["id"])
    deleted = client.wait_finished(
        submitted["id"], statuses=frozenset({"DELETE_COMPLETE", "DELETE_FAILED"})
    )
    assert deleted["status"] == "DELETE_COMPLETE", deleted
    after = conn.network.get_network(net.id)
    assert (after.tags, after.description) == ([], "the user's own")
    assert sorted(conn.network.get_network(public.id).tags or ()) == public_tags
    assert conn.compute.get_keypair(key_name).public_key == public_key
    assert project.counts() == before
