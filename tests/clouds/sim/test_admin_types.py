"""Cinder's volume types and Nova's host aggregates on the simulated cloud: names unique
in the cloud, one encryption a type (which get_resource names by its type), and only
the sim's compute hosts in an aggregate."""

from __future__ import annotations

import pytest

from cool.clouds.base import ProviderError, ResourceExistsError
from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import ctx

VOLUME_TYPE, ENCRYPTION = "OS::Cinder::VolumeType", "OS::Cinder::EncryptedVolumeType"
AGGREGATE = "OS::Nova::HostAggregate"


def test_sim_volume_type_names_are_unique_in_the_cloud(sim: SimProvider) -> None:
    props = {"name": "gold", "is_public": False, "projects": ["p1"], "metadata": {"n": 2}}
    first = sim.create(ctx("vt", VOLUME_TYPE, "build-a"), props)
    shown = sim.observe(ctx("vt", VOLUME_TYPE, "build-a"), first).attributes["show"]
    assert (shown["extra_specs"], shown["projects"], shown["is_public"]) == (
        {"n": "2"},
        ["p1"],
        False,
    )
    with pytest.raises(ResourceExistsError, match="gold already exists"):
        sim.create(ctx("vt", VOLUME_TYPE, "build-b"), props)
    sim.delete(ctx("vt", VOLUME_TYPE, "build-a"), first)
    sim.create(ctx("vt", VOLUME_TYPE, "build-b"), props)  # the name is free again


def test_sim_encryption_is_one_per_type_and_named_by_its_type(sim: SimProvider) -> None:
    volume_type = sim.create(ctx("vt", VOLUME_TYPE), {"name": "secret"})
    props = {"volume_type": volume_type, "provider": "luks", "cipher": "aes-xts-plain64"}
    encryption = sim.create(ctx("enc", ENCRYPTION), props)
    observed = sim.observe(ctx("enc", ENCRYPTION), encryption)
    assert observed.reference == volume_type  # what a volume's volume_type is given
    assert observed.attributes["show"]["control_location"] == "front-end"
    with pytest.raises(ProviderError, match="already exists") as caught:
        sim.create(ctx("enc2", ENCRYPTION), props)
    assert not caught.value.retryable
    sim.delete(ctx("enc", ENCRYPTION), encryption)
    sim.create(ctx("enc2", ENCRYPTION), props)  # encrypted again, by another step
    sim.delete(ctx("vt", VOLUME_TYPE), volume_type)
    with pytest.raises(ProviderError, match="could not be found"):
        sim.create(ctx("enc3", ENCRYPTION), props)
    # A type made elsewhere: refused, as the openstack provider refuses it (an
    # encryption carries no mark; review of 20).
    elsewhere = {**props, "volume_type": "lvm-encrypted"}
    with pytest.raises(ProviderError, match="was not made by this build") as caught:
        sim.create(ctx("enc4", ENCRYPTION), elsewhere)
    assert not caught.value.retryable


def test_sim_aggregate_takes_only_the_sims_hosts_and_a_unique_name(sim: SimProvider) -> None:
    props = {"name": "rack", "availability_zone": "az1", "hosts": ["sim-compute-1"]}
    aggregate = sim.create(ctx("agg", AGGREGATE), props)
    shown = sim.observe(ctx("agg", AGGREGATE), aggregate).attributes["show"]
    assert shown["hosts"] == ["sim-compute-1"]
    assert shown["metadata"] == {"availability_zone": "az1"}
    with pytest.raises(ResourceExistsError, match="rack already exists"):
        sim.create(ctx("agg", AGGREGATE, "build-b"), props)
    with pytest.raises(ProviderError, match="Compute host mini-compute could not be found"):
        sim.create(ctx("other", AGGREGATE), {"name": "other", "hosts": ["mini-compute"]})
