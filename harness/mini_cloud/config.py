"""Where a mini cloud's files are, and the configuration of each of its services.

Pure text from a :class:`CloudLayout` (directory, venv, ports, secrets): the
template build and every run write the same files, only the paths and ports
differ. A cloud's directory holds::

    <base_dir>/state.json                     the `up` command's pid (for `down`)
    <base_dir>/clouds.yaml, openrc            the admin's credentials, for a shell
    <base_dir>/rabbitmq/                      a private RabbitMQ node and epmd
    <base_dir>/keystone/                      a harness.keystone.server.KeystoneServer
    <base_dir>/{placement,glance,neutron,nova,cinder}/
        <service>.conf (+ ml2_conf.ini)       oslo.config files
        *.sqlite                              databases, copied from the template
        gunicorn.conf.py                      its API's gunicorn settings
        <process>.log                         each process's log, stdout and stderr

Every service authenticates requests with keystonemiddleware (``auth_token``),
as a production cloud does: a trust-scoped token then works against each API
like any project-scoped token, and Neutron can notify Nova (floating IPs in a
server's addresses). The pitfall each less obvious setting avoids is noted
beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.keystone.admin import REGION, SERVICE_PROJECT
from harness.zookeeper import HOST

SERVICE_USERS = ("placement", "glance", "neutron", "nova", "cinder")
COMPUTE_HOST = "mini-compute"
VOLUME_HOST = "mini-volume"
VOLUME_BACKEND = "fake"
# Nova's cell0 and cell1; their mappings hold paths and a broker URL, rewritten per run.
CELL0_UUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Ports:
    """Every port a cloud listens on, all on 127.0.0.1."""

    amqp: int
    rabbit_dist: int
    epmd: int
    keystone: int
    placement: int
    glance: int
    neutron: int
    nova: int
    cinder: int

    @classmethod
    def placeholder(cls) -> Ports:
        """For the template build, whose services never serve."""
        return cls(*range(1, 10))


@dataclass(frozen=True)
class CloudLayout:
    """A cloud's directory, venv, ports and service password: all the configuration needs."""

    base_dir: Path
    venv: Path
    ports: Ports
    service_password: str

    def service_dir(self, service: str) -> Path:
        return self.base_dir / service

    @property
    def keystone_url(self) -> str:
        return f"http://{HOST}:{self.ports.keystone}"

    @property
    def auth_url(self) -> str:
        return f"{self.keystone_url}/v3"

    @property
    def transport_url(self) -> str:
        return f"rabbit://guest:guest@{HOST}:{self.ports.amqp}/"

    def sqlite_url(self, service: str, name: str) -> str:
        return f"sqlite:///{self.service_dir(service) / name}"

    def endpoints(self) -> dict[str, tuple[str, str]]:
        """The catalog beside bootstrap's identity: service type -> (name, public URL)."""
        return {
            "placement": ("placement", f"http://{HOST}:{self.ports.placement}"),
            "image": ("glance", f"http://{HOST}:{self.ports.glance}"),
            "network": ("neutron", f"http://{HOST}:{self.ports.neutron}"),
            "compute": ("nova", f"http://{HOST}:{self.ports.nova}/v2.1"),
            # Nova's [cinder] catalog_info names this type and name.
            "block-storage": ("cinderv3", f"http://{HOST}:{self.ports.cinder}/v3/%(project_id)s"),
        }

    def api_port(self, service: str) -> int:
        return int(getattr(self.ports, service))

    # -- pieces shared by the services

    def _auth(self, section: str, user: str, *, authtoken: bool = False) -> str:
        """A keystoneauth password section as ``user`` of project ``service``."""
        extra = f"www_authenticate_uri = {self.keystone_url}\n" if authtoken else ""
        # interface=public: bootstrap and the catalog make public endpoints only.
        return f"""\
[{section}]
{extra}auth_url = {self.keystone_url}
auth_type = password
username = {user}
password = {self.service_password}
project_name = {SERVICE_PROJECT}
user_domain_id = default
project_domain_id = default
region_name = {REGION}
interface = public
valid_interfaces = public
"""

    def _common(self, service: str) -> str:
        """Logs go to stderr: each process's own ``<process>.log``."""
        directory = self.service_dir(service)
        return f"""\
[DEFAULT]
debug = false
state_path = {directory / "state"}
transport_url = {self.transport_url}
[database]
# A test cloud needs no power-cut safety; shorter writes hold SQLite's lock less.
sqlite_synchronous = false
[oslo_concurrency]
lock_path = {directory / "locks"}
[oslo_messaging_notifications]
driver = noop
"""

    # -- one file per service

    def placement_conf(self) -> str:
        return f"""\
[api]
auth_strategy = keystone
[placement_database]
connection = {self.sqlite_url("placement", "placement.sqlite")}
{self._auth("keystone_authtoken", "placement", authtoken=True)}"""

    def glance_conf(self) -> str:
        directory = self.service_dir("glance")
        return f"""\
{self._common("glance")}\
[DEFAULT]
enabled_backends = fs:file
[database]
connection = {self.sqlite_url("glance", "glance.sqlite")}
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = {directory / "images"}
[os_glance_staging_store]
filesystem_store_datadir = {directory / "staging"}
[os_glance_tasks_store]
filesystem_store_datadir = {directory / "tasks"}
[paste_deploy]
flavor = keystone
config_file = {self.venv / "etc" / "glance" / "glance-api-paste.ini"}
{self._auth("keystone_authtoken", "glance", authtoken=True)}"""

    def neutron_conf(self) -> str:
        return f"""\
{self._common("neutron")}\
[DEFAULT]
core_plugin = ml2
# qos: OS::Neutron::QoSPolicy and its rules (no QoS driver: a policy with rules cannot
# be bound to a port or network here, as with an ML2 driver that supports no rule).
# trunk: OS::Neutron::Trunk (the trunk driver of harness/mini_cloud/ml2_driver).
service_plugins = router,tag,qos,trunk
auth_strategy = keystone
api_paste_config = {self.venv / "etc" / "neutron" / "api-paste.ini"}
allow_overlapping_ips = true
# No agents: nothing consumes their RPC, and DHCP is never scheduled.
dhcp_agent_notification = false
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
[database]
connection = {self.sqlite_url("neutron", "neutron.sqlite")}
{self._auth("keystone_authtoken", "neutron", authtoken=True)}
{self._auth("nova", "nova")}
{self._auth("placement", "placement")}"""

    @staticmethod
    def ml2_conf() -> str:
        return """\
[ml2]
type_drivers = flat,vlan,local
tenant_network_types = local
# The agentless driver of harness/mini_cloud/ml2_driver: binds every port, ACTIVE.
mechanism_drivers = cool_bind_all
extension_drivers = port_security,qos
[ml2_type_flat]
flat_networks = *
[securitygroup]
enable_security_group = true
"""

    def nova_conf(self) -> str:
        directory = self.service_dir("nova")
        return f"""\
{self._common("nova")}\
[DEFAULT]
host = {COMPUTE_HOST}
my_ip = {HOST}
instances_path = {directory / "state" / "instances"}
compute_driver = fake.FakeDriver
# No data plane: Neutron's vif-plugged events are not awaited.
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
# Else periodic tasks (host discovery among them) start up to 60 s late.
periodic_fuzzy_delay = 0
graceful_shutdown_timeout = 5
[api]
auth_strategy = keystone
[api_database]
connection = {self.sqlite_url("nova", "nova_api.sqlite")}
[database]
connection = {self.sqlite_url("nova", "nova.sqlite")}
[conductor]
workers = 1
[scheduler]
workers = 1
# nova-compute's host is mapped to cell1 within 2 s of its start.
discover_hosts_in_cells_interval = 2
[compute]
cpu_allocation_ratio = 16.0
[quota]
# Room for ~20 small servers in one project (defaults: 10 instances, 20 cores).
instances = 40
cores = 80
ram = 81920
{self._auth("keystone_authtoken", "nova", authtoken=True)}
{self._auth("placement", "placement")}
{self._auth("neutron", "neutron")}
{self._auth("cinder", "nova")}\
catalog_info = block-storage:cinderv3:publicURL
os_region_name = {REGION}
[glance]
region_name = {REGION}
valid_interfaces = public
{self._auth("service_user", "nova")}\
# Without it Cinder refuses Nova's detach of an attached volume.
send_service_user_token = true
"""

    def cinder_conf(self) -> str:
        directory = self.service_dir("cinder")
        return f"""\
{self._common("cinder")}\
[DEFAULT]
host = {VOLUME_HOST}
my_ip = {HOST}
auth_strategy = keystone
api_paste_config = {self.venv / "etc" / "cinder" / "api-paste.ini"}
# The list filters users may give (volumes by metadata, ...); its default is /etc/cinder.
resource_query_filters_file = {self.venv / "etc" / "cinder" / "resource_filters.json"}
enabled_backends = {VOLUME_BACKEND}
volumes_dir = {directory / "volumes"}
quota_volumes = 40
quota_gigabytes = 1000
# cinder-volume tells the scheduler its pool once as it starts, and the scheduler asks
# for it once as it starts: when the two start together, both messages can go before
# the other side listens (seen once in CI). The next report is a periodic task (every
# 60 s), whose runner otherwise first waits up to 60 s more at random.
periodic_fuzzy_delay = 0
periodic_interval = 5
[database]
connection = {self.sqlite_url("cinder", "cinder.sqlite")}
[coordination]
backend_url = file://{directory / "coordination"}
[key_manager]
# Encrypted volume types (OS::Cinder::EncryptedVolumeType): no Barbican runs here, so
# Cinder's own one-key manager gives a volume of such a type its (test-only) key.
backend = cinder.keymgr.conf_key_mgr.ConfKeyManager
fixed_key = {"0" * 64}
[{VOLUME_BACKEND}]
# Ships in the wheel; needs the `fixtures` package.
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = {VOLUME_BACKEND}
{self._auth("keystone_authtoken", "cinder", authtoken=True)}
{self._auth("nova", "cinder")}"""

    def gunicorn_conf(
        self, service: str, wsgi_app: str, argv: list[str], *, port: int | None = None
    ) -> str:
        """A bare ``gunicorn`` reads this from its working directory.

        Cinder's and Keystone's oslo.config parse ``sys.argv``: gunicorn's own
        arguments would kill every worker ("unrecognized arguments") while the
        master keeps the port open, so gunicorn gets none and the app gets
        ``argv`` (``--config-file ...``), set here after gunicorn parsed its own.
        ``port``: for a service started later (Octavia), whose port is not in :class:`Ports`.
        """
        return f"""\
# Written by harness.mini_cloud.config.
import sys

sys.argv[1:] = {argv!r}
wsgi_app = {wsgi_app!r}
bind = "{HOST}:{port or self.api_port(service)}"
workers = 1
worker_class = "gthread"
threads = 4
timeout = 300
graceful_timeout = 5
control_socket_disable = True
accesslog = "-"
errorlog = "-"
"""
