"""What a step learns from the cloud's reply is not asked again (issue 20): a Neutron
create whose reply shows the resource ready is the step's first look, and a Neutron
delete (done before Neutron answers) is not looked at again. Counted on the wire: the
member's keystoneauth session sends every request, and a response hook lists them."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from cool.clouds.base import Observed, ProviderError
from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.helpers import Project, new_build_id

pytestmark = pytest.mark.openstack

NET, SUBNET, ROUTER = "OS::Neutron::Net", "OS::Neutron::Subnet", "OS::Neutron::Router"
PORT, GROUP = "OS::Neutron::Port", "OS::Neutron::SecurityGroup"


@pytest.fixture
def member(mini_cloud: MiniCloud) -> Iterator[Project]:
    project = Project.create(mini_cloud)
    before = project.counts()
    yield project
    assert project.counts() == before


@pytest.fixture
def sent(member: Project) -> list[str]:
    """Every request the member's session sends from now on, as ``METHOD /path``."""
    requests: list[str] = []

    def hook(response, *_args, **_kwargs):  # requests' response hook
        request = response.request
        requests.append(f"{request.method} {urlparse(request.url).path}")

    member.session.session.hooks["response"].append(hook)
    return requests


def _comparable(observed: Observed) -> dict:
    """The attributes, less what the tag write bumps (revision, time) and ``is_default``,
    which Neutron's POST reply gives (false) and its GET leaves out."""
    attributes = dict(observed.attributes)
    show = {
        k: v
        for k, v in attributes.pop("show").items()
        if k not in {"revision_number", "updated_at", "is_default"}
    }
    return {**attributes, "show": show}


@pytest.mark.parametrize(
    ("neutron_tags", "tags", "tagged"),
    [
        (False, None, False),  # the default: the description's mark only, one call
        (True, None, True),  # [openstack] neutron_tags: cool's tags, a second call
        (False, ["blue"], True),  # the template's tags: a second call, as Heat makes
    ],
)
def test_a_network_is_posted_and_tagged_then_its_first_look_is_the_reply(
    member: Project, sent: list[str], neutron_tags: bool, tags: list[str] | None, tagged: bool
) -> None:
    provider = member.provider(neutron_tags=neutron_tags)
    build = new_build_id()
    ctx = member.ctx("net", NET, {"tags": tags} if tags else {}, build_id=build)
    net = provider.create(ctx, ctx.properties)
    tag_put = [f"PUT /v2.0/networks/{net}/tags"] if tagged else []
    assert sent == ["POST /v2.0/networks", *tag_put]
    first = provider.observe(ctx, net)
    assert first.ready
    assert len(sent) == 1 + len(tag_put), sent  # no GET
    ours = {f"cool-build={build}", "cool-resource=net"}
    assert set(first.attributes["show"]["tags"]) == {*(tags or ()), *(ours if neutron_tags else ())}
    assert first.attributes["show"]["description"] == f"cool-build={build},cool-resource=net"
    del sent[:]
    again = provider.observe(ctx, net)  # a second look asks Neutron
    assert sent == [f"GET /v2.0/networks/{net}"]
    assert [f.physical_id for f in provider.find(ctx)] == [net]  # by its description
    assert _comparable(first) == _comparable(again)
    assert sorted(first.attributes["show"]["tags"]) == sorted(again.attributes["show"]["tags"])

    del sent[:]
    provider.delete(ctx, net)
    assert provider.is_deleted(ctx, net)
    assert sent == [f"DELETE /v2.0/networks/{net}"]  # not looked at again
    assert provider.is_deleted(ctx, net)  # and truly gone: a GET's 404 says so
    assert sent[1:] == [f"GET /v2.0/networks/{net}"]


def test_another_thread_or_claim_asks_the_cloud(member: Project, sent: list[str]) -> None:
    """A takeover's look (another worker, another thread, a newer claim) never reads a
    reply it did not get."""
    provider = member.provider()
    ctx = member.ctx("router", ROUTER, {}, build_id=new_build_id())
    router = provider.create(ctx, ctx.properties)
    looks: list[Observed] = []
    thread = threading.Thread(target=lambda: looks.append(provider.observe(ctx, router)))
    thread.start()
    thread.join(timeout=60)
    assert looks
    assert looks[0].ready
    assert sent[-1] == f"GET /v2.0/routers/{router}"
    router_again = provider.create(ctx, ctx.properties)  # a retried create: its own reply
    newer = dataclasses.replace(ctx, epoch=ctx.epoch + 1)
    count = len(sent)
    provider.observe(newer, router)
    assert len(sent) == count + 1
    provider.observe(ctx, router_again)  # the reply, read once by its own step
    assert len(sent) == count + 1
    for physical_id in (router, router_again):
        provider.delete(ctx, physical_id)
    assert all(provider.is_deleted(ctx, p) for p in (router, router_again))


def test_a_security_group_converges_from_its_reply_in_one_bulk_create(
    member: Project, sent: list[str]
) -> None:
    """Its rules converge from those its create's reply lists, the missing ones made
    in one request; the group so made is its first look, the same as Neutron's GET."""
    provider = member.provider()
    rules = [
        {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
        {"protocol": "icmp"},
        {"direction": "egress", "protocol": "tcp", "port_range_min": 443, "port_range_max": 443},
    ]
    ctx = member.ctx("group", GROUP, {"rules": rules}, build_id=new_build_id())
    group = provider.create(ctx, ctx.properties)
    deletes = [s for s in sent if s.startswith("DELETE /v2.0/security-group-rules/")]
    # (this cloud's Neutron gives a new group no default rule: nothing to delete here;
    # test_aws_types has a group whose egress replaces the defaults)
    assert [s for s in sent if s not in deletes] == [
        "POST /v2.0/security-groups",
        "POST /v2.0/security-group-rules",
    ]
    count = len(sent)
    first = provider.observe(ctx, group)
    assert len(sent) == count  # its reply
    again = provider.observe(ctx, group)  # Neutron's GET (and its rules listed)

    def rules_of(observed: Observed) -> list[dict]:
        """Each rule whole, as Neutron lists it in its group (nulls included: a
        template's get_attr reads them), but Neutron's internal standard_attr_id,
        which openstacksdk does not keep from the bulk create's reply."""
        rules = observed.attributes["show"]["security_group_rules"]
        return sorted(
            ({k: v for k, v in r.items() if k != "standard_attr_id"} for r in rules),
            key=lambda r: r["id"],
        )

    assert rules_of(first) == rules_of(again)
    assert len(rules_of(first)) == 3
    assert all("remote_ip_prefix" in rule for rule in rules_of(first))
    provider.delete(ctx, group)
    assert provider.is_deleted(ctx, group)


def test_a_name_is_listed_at_once_and_an_interface_is_its_own_first_look(
    member: Project, sent: list[str], mini_cloud: MiniCloud
) -> None:
    """A network named by name (the router's gateway) is listed by that name, not first
    tried as an id; a router interface's PUT is its first look, and its removal is not
    looked at again."""
    provider = member.provider()
    build = new_build_id()
    net_ctx = member.ctx("net", NET, {}, build_id=build)
    net = provider.create(net_ctx, net_ctx.properties)
    subnet_props = {"network": net, "cidr": "10.77.0.0/24", "ip_version": 4}
    subnet_ctx = member.ctx("subnet", SUBNET, subnet_props, build_id=build)
    subnet = provider.create(subnet_ctx, subnet_props)
    gateway = {"external_gateway_info": {"network": mini_cloud.public_network}}
    router_ctx = member.ctx("router", ROUTER, gateway, build_id=build)
    del sent[:]
    router = provider.create(router_ctx, gateway)
    assert sent[0] == "GET /v2.0/networks"  # ?name=public: listed at once
    assert f"GET /v2.0/networks/{mini_cloud.public_network}" not in sent
    assert provider.observe(router_ctx, router).ready

    props = {"router": router, "subnet": subnet}
    ctx = member.ctx("interface", "OS::Neutron::RouterInterface", props, build_id=build)
    del sent[:]
    interface = provider.create(ctx, props)
    assert sent[-1] == f"PUT /v2.0/routers/{router}/add_router_interface"
    count = len(sent)
    observed = provider.observe(ctx, interface)
    assert observed.attributes["show"] == {"router_id": router, "subnet_id": subnet}
    assert len(sent) == count
    assert provider.find(ctx)  # Neutron has it indeed
    del sent[:]
    provider.delete(ctx, interface)
    assert provider.is_deleted(ctx, interface)
    assert sent == [f"PUT /v2.0/routers/{router}/remove_router_interface"]
    assert provider.is_deleted(ctx, interface)  # asked: really gone
    assert provider.find(ctx) == []
    for step_ctx, physical_id in ((router_ctx, router), (subnet_ctx, subnet), (net_ctx, net)):
        provider.delete(step_ctx, physical_id)
        assert provider.is_deleted(step_ctx, physical_id)


def test_a_rule_over_the_quota_fails_the_group_not_taken_for_one_made(
    member: Project, mini_cloud: MiniCloud
) -> None:
    """Neutron's quota refusal is a 409 too: only "already exists" means a rule made by
    a lost reply; over the quota, the step fails with Neutron's words."""
    admin = mini_cloud.admin_connection()
    admin.network.update_quota(member.project_id, security_group_rules=2)
    provider = member.provider()
    rules = [{"protocol": "tcp", "port_range_min": p, "port_range_max": p} for p in (1, 2, 3)]
    ctx = member.ctx("group", GROUP, {"rules": rules}, build_id=new_build_id())
    with pytest.raises(ProviderError, match=r"(?i)quota"):
        provider.create(ctx, ctx.properties)
    for found in provider.find(ctx):  # the group was made before its rules
        provider.delete(ctx, found.physical_id)
        assert provider.is_deleted(ctx, found.physical_id)


def test_an_aws_group_reads_the_native_groups_reply(member: Project, sent: list[str]) -> None:
    provider = member.provider()
    props = {
        "GroupDescription": "web",
        "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80}],
    }
    ctx = member.ctx("web", "AWS::EC2::SecurityGroup", props, build_id=new_build_id())
    group = provider.create(ctx, props)
    count = len(sent)
    assert provider.observe(ctx, group).ready
    assert len(sent) == count  # the native group's create reply
    provider.delete(ctx, group)
    assert provider.is_deleted(ctx, group)


def test_an_id_the_build_made_is_not_looked_up(member: Project, sent: list[str]) -> None:
    """A port's network, subnet and security group, made by its build (the step's
    ``made``), go into its create as they are: no GET of each before the POST. An id
    the build made as another type is looked up as the template says (and not found)."""
    provider = member.provider()
    build = new_build_id()
    net_ctx = member.ctx("net", NET, {}, build_id=build)
    net = provider.create(net_ctx, {})
    subnet_props = {"network": net, "cidr": "10.78.0.0/24", "ip_version": 4}
    subnet_ctx = member.ctx("subnet", SUBNET, subnet_props, build_id=build)
    subnet = provider.create(dataclasses.replace(subnet_ctx, made={net: NET}), subnet_props)
    group_ctx = member.ctx("group", GROUP, {}, build_id=build)
    group = provider.create(group_ctx, {})
    props = {"network": net, "fixed_ips": [{"subnet": subnet}], "security_groups": [group]}
    ctx = member.ctx("port", PORT, props, build_id=build)
    made = {net: NET, subnet: SUBNET, group: GROUP}

    del sent[:]
    port = provider.create(dataclasses.replace(ctx, made=made), props)
    assert sent[0] == "POST /v2.0/ports", sent
    shown = member.conn.network.get_port(port)
    assert (shown.network_id, shown.security_group_ids) == (net, [group])
    assert [f["subnet_id"] for f in shown.fixed_ips] == [subnet]

    wrong = dataclasses.replace(ctx, resource_name="wrong", made={subnet: SUBNET})
    del sent[:]
    with pytest.raises(ProviderError, match=r"network .* not found"):
        provider.create(wrong, {"network": subnet})
    assert sent[0] == f"GET /v2.0/networks/{subnet}"
    for step_ctx, physical_id in (
        (ctx, port),
        (group_ctx, group),
        (subnet_ctx, subnet),
        (net_ctx, net),
    ):
        provider.delete(step_ctx, physical_id)
        assert provider.is_deleted(step_ctx, physical_id)


def test_a_key_pairs_delete_is_its_first_look_and_a_routers_lists_its_ports_once(
    member: Project, sent: list[str]
) -> None:
    """Nova deletes a key pair before it answers (its delete is the step's first
    look; a look after it is one GET, not a GET and a listing of every key), and a
    router's delete lists its ports once, whatever their owner."""
    provider = member.provider()
    build = new_build_id()
    key_ctx = member.ctx("key", "OS::Nova::KeyPair", {"name": f"k-{build}"}, build_id=build)
    key = provider.create(key_ctx, key_ctx.properties)
    del sent[:]
    provider.delete(key_ctx, key)
    assert provider.is_deleted(key_ctx, key)
    assert sent == [f"GET /v2.1/os-keypairs/{key}", f"DELETE /v2.1/os-keypairs/{key}"]
    assert provider.is_deleted(key_ctx, key)  # asked this time: one GET, a 404
    assert sent[2:] == [f"GET /v2.1/os-keypairs/{key}"]

    router_ctx = member.ctx("router", ROUTER, {}, build_id=build)
    router = provider.create(router_ctx, {})
    del sent[:]
    provider.delete(router_ctx, router)
    assert sent == ["GET /v2.0/ports", f"DELETE /v2.0/routers/{router}"]
    assert provider.is_deleted(router_ctx, router)
