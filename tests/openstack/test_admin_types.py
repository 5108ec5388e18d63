"""OS::Cinder::VolumeType, OS::Cinder::EncryptedVolumeType and OS::Nova::HostAggregate
against the mini cloud's real Cinder and Nova: a member is refused (the cloud's 403), an
admin's step creates them, finds them again by its mark (and only its own), repairs what
a worker that died between two calls left unfinished, and a delete leaves the cloud as
it was."""

from __future__ import annotations

from typing import Any

import pytest

from cool.clouds.base import ProviderError, ResourceExistsError
from harness.mini_cloud.cloud import MiniCloud
from harness.mini_cloud.config import COMPUTE_HOST
from tests.openstack.helpers import Project, made, new_build_id, unique, until_deleted, until_ready

pytestmark = pytest.mark.openstack

VOLUME_TYPE, ENCRYPTION = "OS::Cinder::VolumeType", "OS::Cinder::EncryptedVolumeType"
AGGREGATE, VOLUME = "OS::Nova::HostAggregate", "OS::Cinder::Volume"
LUKS = "nova.volume.encryptors.luks.LuksEncryptor"


@pytest.fixture
def member(mini_cloud: MiniCloud) -> Project:
    return Project.create(mini_cloud)


def _type_ids(admin: Project) -> set[str]:
    return {str(t.id) for t in admin.conn.block_storage.types(is_public="None")}


def _aggregate_ids(admin: Project) -> set[str]:
    return {str(a.id) for a in admin.conn.compute.aggregates()}


def _gone(project: Project, ctx: Any, physical_id: str) -> None:
    provider = project.provider()
    provider.delete(ctx, physical_id)
    until_deleted(provider, ctx, physical_id, timeout_s=90)
    provider.delete(ctx, physical_id)  # again: nothing to do, no error


# -- a member is refused ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "props", "what", "words"),
    [
        (VOLUME_TYPE, {"name": "gold"}, "create vt (OS::Cinder::VolumeType)", "type_create"),
        (AGGREGATE, {"name": "rack-1"}, "create vt (OS::Nova::HostAggregate)", "aggregates:create"),
    ],
)
def test_a_members_admin_type_fails_with_the_clouds_403(
    member: Project, kind: str, props: dict[str, Any], what: str, words: str
) -> None:
    props = {**props, "name": unique(props["name"])}
    ctx = member.ctx("vt", kind, props)
    with pytest.raises(ProviderError, match=r"HTTP 403") as caught:
        member.provider().create(ctx, props)
    assert not caught.value.retryable
    assert what in str(caught.value)
    assert words in str(caught.value)  # the create's refusal, not a lookup's
    # What a rollback asks: a member, who may not list them either, made none.
    assert member.provider().find(ctx) == []


def test_an_encryption_of_a_type_another_build_made_is_refused(
    admin: Project, member: Project
) -> None:
    """An encryption carries no mark: on a type the build did not make, a create whose
    reply was lost could not be told from someone else's, and would be left behind
    (review of 20: it was). cool refuses it, for an admin and a member alike (a member's
    own type would fail at Cinder's 403 first)."""
    props = {"name": unique("public")}
    type_ctx = admin.ctx("vt", VOLUME_TYPE, props)
    volume_type, _ = made(admin.provider(), type_ctx)
    enc = {"volume_type": volume_type, "provider": "luks", "control_location": "front-end"}
    for project in (admin, member):
        with pytest.raises(ProviderError, match="was not made by this build") as caught:
            project.provider().create(project.ctx("enc", ENCRYPTION, enc), enc)
        assert not caught.value.retryable
    assert admin.conn.block_storage.get_type_encryption(volume_type).encryption_id is None
    _gone(admin, type_ctx, volume_type)


def test_a_second_encryption_step_on_a_type_does_not_adopt_the_firsts(admin: Project) -> None:
    """Two steps of one build on one type, with other settings: the second never takes
    the first's encryption for its own (review of 20: it did, through find)."""
    provider = admin.provider()
    build = new_build_id()
    type_ctx = admin.ctx("vt", VOLUME_TYPE, {"name": unique("twice")}, build_id=build)
    volume_type, _ = made(provider, type_ctx)
    first = {"volume_type": volume_type, "provider": LUKS, "cipher": "aes-xts-plain64"}
    second = {**first, "cipher": None, "key_size": 256, "control_location": "back-end"}
    first_ctx = admin.ctx("enc_a", ENCRYPTION, first, build_id=build)
    made(provider, first_ctx)
    second_ctx = admin.ctx("enc_b", ENCRYPTION, second, build_id=build)
    assert provider.find(second_ctx) == []
    with pytest.raises(ResourceExistsError):
        provider.create(second_ctx, second)
    assert [f.physical_id for f in provider.find(first_ctx)] == [volume_type]
    _gone(admin, first_ctx, volume_type)
    _gone(admin, type_ctx, volume_type)


# -- OS::Cinder::VolumeType --------------------------------------------------------


def test_an_admins_private_volume_type_with_extra_specs_access_and_its_delete(
    admin: Project, member: Project
) -> None:
    before = _type_ids(admin)
    provider = admin.provider()
    name = unique("gold")
    props = {
        "name": name,
        "description": "fast disks",
        "metadata": {"volume_backend_name": "fake", "replicas": 2},
        "is_public": False,
        "projects": [member.project_name],
    }
    ctx = admin.ctx("vt", VOLUME_TYPE, props)
    assert provider.find(ctx) == []
    volume_type, observed = made(provider, ctx)
    shown = admin.conn.block_storage.get_type(volume_type)
    assert shown.name == name
    assert shown.description == f"fast disks (cool-build={ctx.build_id},cool-resource=vt)"
    assert shown.extra_specs == {"volume_backend_name": "fake", "replicas": "2"}
    assert shown.is_public is False
    assert observed.attributes["show"]["name"] == name
    access = {a["project_id"] for a in admin.conn.block_storage.get_type_access(volume_type)}
    assert access == {member.project_id}
    assert [f.physical_id for f in provider.find(ctx)] == [volume_type]

    # Another build's step of that name finds nothing, and its create is refused.
    other = admin.ctx("vt", VOLUME_TYPE, props)
    assert provider.find(other) == []
    with pytest.raises(ResourceExistsError, match=name):
        provider.create(other, props)

    # What further calls set, lost with a worker that died between them: observe repairs.
    admin.conn.block_storage.delete_type_extra_specs(volume_type, ["replicas"])
    admin.conn.block_storage.remove_type_access(volume_type, member.project_id)
    until_ready(provider, ctx, volume_type)
    shown = admin.conn.block_storage.get_type(volume_type)
    assert shown.extra_specs == {"volume_backend_name": "fake", "replicas": "2"}
    access = {a["project_id"] for a in admin.conn.block_storage.get_type_access(volume_type)}
    assert access == {member.project_id}

    _gone(admin, ctx, volume_type)
    assert _type_ids(admin) == before


# -- OS::Cinder::EncryptedVolumeType and a volume of it -------------------------------


def test_an_encrypted_type_gives_an_encrypted_volume_and_goes_before_its_type(
    admin: Project,
) -> None:
    """As the corpus's server_with_encrpyted_volume.yaml: the encryption names the type
    by get_resource, the volume names the encryption (its id is the type's)."""
    before = _type_ids(admin)
    provider = admin.provider()
    build = new_build_id()
    type_props = {"name": unique("secret")}
    type_ctx = admin.ctx("vt", VOLUME_TYPE, type_props, build_id=build)
    volume_type, _ = made(provider, type_ctx)
    enc = {
        "volume_type": volume_type,
        "provider": LUKS,
        "cipher": "aes-xts-plain64",
        "key_size": 512,
        "control_location": "front-end",
    }
    enc_ctx = admin.ctx("enc", ENCRYPTION, enc, build_id=build)
    assert provider.find(enc_ctx) == []
    encryption, observed = made(provider, enc_ctx)
    assert encryption == volume_type  # get_resource gives the type's id, as in Heat
    assert observed.attributes["show"]["cipher"] == "aes-xts-plain64"
    assert observed.attributes["show"]["key_size"] == 512
    assert [f.physical_id for f in provider.find(enc_ctx)] == [volume_type]
    # A create whose reply was lost: Cinder says so, and the runner adopts (find).
    with pytest.raises(ResourceExistsError, match="encrypted already"):
        provider.create(enc_ctx, enc)
    # Another build's step never takes this build's type's encryption for its own.
    assert provider.find(admin.ctx("enc", ENCRYPTION, enc)) == []

    volume_props = {"size": 1, "volume_type": encryption}
    volume_ctx = admin.ctx("volume", VOLUME, volume_props, build_id=build)
    volume, observed = made(provider, volume_ctx)
    assert observed.ready, observed
    assert observed.attributes["encrypted"] is True
    assert observed.attributes["volume_type"] == type_props["name"]

    _gone(admin, volume_ctx, volume)
    _gone(admin, enc_ctx, encryption)
    assert admin.conn.block_storage.get_type(volume_type).id == volume_type  # type kept
    _gone(admin, type_ctx, volume_type)
    assert _type_ids(admin) == before


def test_an_encryption_of_a_type_named_by_name_and_of_a_missing_type(admin: Project) -> None:
    provider = admin.provider()
    build = new_build_id()
    name = unique("named")
    type_ctx = admin.ctx("vt", VOLUME_TYPE, {"name": name, "is_public": False}, build_id=build)
    volume_type, _ = made(provider, type_ctx)
    enc = {"volume_type": name, "provider": "luks", "control_location": "back-end"}
    enc_ctx = admin.ctx("enc", ENCRYPTION, enc, build_id=build)
    encryption, observed = made(provider, enc_ctx)  # a private type, found by its name
    assert encryption == volume_type
    assert observed.attributes["show"]["control_location"] == "back-end"
    _gone(admin, enc_ctx, encryption)
    _gone(admin, type_ctx, volume_type)
    missing = {**enc, "volume_type": unique("no-such")}
    with pytest.raises(ProviderError, match=r"volume type 'no-such-.*' not found") as caught:
        provider.create(admin.ctx("enc", ENCRYPTION, missing), missing)
    assert not caught.value.retryable


# -- OS::Nova::HostAggregate -------------------------------------------------------


def test_a_host_aggregate_holds_the_compute_host_and_is_deleted_without_it(
    admin: Project,
) -> None:
    before = _aggregate_ids(admin)
    provider = admin.provider()
    name = unique("rack")
    # No availability zone: Nova refuses to move a host that runs a server (another
    # test's) into one (test_admin_types_builds.py gives one, with no server left).
    props = {"name": name, "hosts": [COMPUTE_HOST], "metadata": {"ssd": "true"}}
    ctx = admin.ctx("agg", AGGREGATE, props)
    assert provider.find(ctx) == []
    aggregate, observed = made(provider, ctx)
    shown = admin.conn.compute.get_aggregate(aggregate)
    assert shown.name == name
    assert shown.hosts == [COMPUTE_HOST]
    marks = {"cool-build": ctx.build_id, "cool-resource": "agg"}
    assert shown.metadata == {"ssd": "true", **marks}
    assert observed.attributes["show"]["hosts"] == [COMPUTE_HOST]
    assert [f.physical_id for f in provider.find(ctx)] == [aggregate]

    # Another build's step of that name finds nothing, and its create is refused.
    other = admin.ctx("agg", AGGREGATE, props)
    assert provider.find(other) == []
    with pytest.raises(ResourceExistsError, match=name):
        provider.create(other, props)

    # Hosts and metadata lost between calls: observe puts them back.
    admin.conn.compute.remove_host_from_aggregate(aggregate, COMPUTE_HOST)
    admin.conn.compute.set_aggregate_metadata(aggregate, {"ssd": None})
    until_ready(provider, ctx, aggregate)
    shown = admin.conn.compute.get_aggregate(aggregate)
    assert shown.hosts == [COMPUTE_HOST]
    assert shown.metadata["ssd"] == "true"

    _gone(admin, ctx, aggregate)  # Nova deletes it only once its host is removed
    assert _aggregate_ids(admin) == before


def test_an_aggregate_created_but_never_observed_is_found_and_finished(
    admin: Project,
) -> None:
    """A worker that died right after the create left an aggregate without marks,
    metadata or hosts: the next one finds it (by the name the create gave) and its
    observe finishes it."""
    provider = admin.provider()
    name = unique("late")
    props = {"name": name, "hosts": [COMPUTE_HOST], "metadata": {"tier": "gold"}}
    ctx = admin.ctx("agg", AGGREGATE, props)
    aggregate = provider.create(ctx, props)
    unfinished = admin.conn.compute.get_aggregate(aggregate)
    assert unfinished.hosts == []
    assert "cool-build" not in (unfinished.metadata or {})
    assert [f.physical_id for f in provider.find(ctx)] == [aggregate]
    assert provider.find(admin.ctx("agg", AGGREGATE, props)) == []  # another build's
    until_ready(provider, ctx, aggregate)
    shown = admin.conn.compute.get_aggregate(aggregate)
    assert (shown.name, shown.hosts, shown.metadata["tier"]) == (name, [COMPUTE_HOST], "gold")
    assert [f.physical_id for f in provider.find(ctx)] == [aggregate]
    _gone(admin, ctx, aggregate)


def test_an_aggregate_with_an_unknown_host_fails_with_novas_reason(admin: Project) -> None:
    provider = admin.provider()
    props = {"name": unique("nohost"), "hosts": ["no-such-host"]}
    ctx = admin.ctx("agg", AGGREGATE, props)
    aggregate = provider.create(ctx, props)
    with pytest.raises(ProviderError, match="no-such-host") as caught:
        provider.observe(ctx, aggregate)
    assert not caught.value.retryable
    _gone(admin, ctx, aggregate)
