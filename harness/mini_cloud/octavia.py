"""Octavia in the mini cloud: its API under gunicorn and its controller worker, with the
no-op amphora, compute, network, image and volume drivers, started on demand.

Only the load balancer tests need it, so a cloud starts without it and
:meth:`harness.mini_cloud.cloud.MiniCloud.start_octavia` adds it (~5 s here)
to a running cloud: its service user and ``load-balancer`` endpoint in
Keystone, its database, its two processes. Every API call is real Octavia
(keystonemiddleware, oslo.policy with the new defaults, so a project's
``member`` may use it as on a 2026.1 cloud); the ``amphora`` provider casts
to the worker over the cloud's RabbitMQ, and the worker runs Octavia's real
flows (provisioning status PENDING_* -> ACTIVE) on drivers that build nothing.

What it takes here (``<base_dir>/octavia/``)::

    octavia.conf, gunicorn.conf.py, octavia.sqlite
    octavia-api.log, octavia-worker.log

- The database: ``octavia-db-manage upgrade head`` fails on SQLite (ALTER
  of constraints), so, as for Neutron, the schema is made from the models'
  metadata, its lookup tables filled from Octavia's constants, and the
  result stamped ``head``; built once per machine into
  ``<repo>/.cache/mini-cloud-octavia-<key>/`` and copied per run.
- A CA: the worker signs a certificate for every (no-op) amphora with
  ``local_cert_generator``; one self-signed CA is made with the template.
- The no-op network driver keeps its ports in ``/tmp/octavia-network-noop.db``
  (a path fixed in its code), shared by every cloud on the machine. It cannot
  delete a pool member that has a ``subnet`` (Octavia 18's network delta raises
  KeyError for the VIP's network; the member goes to ERROR): tests give none.
- SQLite transactions begin IMMEDIATE as the other services' do
  (:mod:`harness.sqlite_immediate`); the second session an Octavia API call reads
  in while its first holds the write lock begins deferred (same thread).
- No jobboard (``[task_flow] jobboard_enabled = false``): the worker runs
  its flows in memory, so neither Redis nor etcd is needed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness.daemons import Daemon
from harness.keystone.admin import KeystoneAdmin
from harness.keystone.venv import REPO
from harness.mini_cloud.config import CloudLayout
from harness.mini_cloud.errors import MiniCloudError
from harness.mini_cloud.processes import http_status, spawn, wait_for
from harness.mini_cloud.template import run_manage

LOG = logging.getLogger(__name__)

SERVICE = "octavia"
SERVICE_TYPE = "load-balancer"
WSGI_APP = "octavia.wsgi.api:application"
TEMPLATE_FORMAT = 1  # bump when what the template holds changes
_TEMPLATE_MARKER = "template.json"
_MANAGE_TIMEOUT_S = 120.0  # each step of its database build
_QUEUE = "octavia_provisioning_v2"  # the amphora provider's RPC topic: the worker's queue

# Octavia's schema from its models, its lookup tables from its constants: what the
# migrations make (they cannot run on SQLite).
_SCHEMA = """\
import sys
import sqlalchemy
from sqlalchemy import orm
from octavia.common import constants as c
from octavia.db import base_models, models as m

engine = sqlalchemy.create_engine(sys.argv[1])
base_models.BASE.metadata.create_all(engine)
lookups = (
    (m.ProvisioningStatus, c.SUPPORTED_PROVISIONING_STATUSES),
    (m.OperatingStatus, c.SUPPORTED_OPERATING_STATUSES),
    (m.Protocol, c.SUPPORTED_PROTOCOLS),
    (m.Algorithm, c.SUPPORTED_LB_ALGORITHMS),
    (m.AmphoraRoles, c.SUPPORTED_AMPHORA_ROLES),
    (m.LBTopology, c.SUPPORTED_LB_TOPOLOGIES),
    (m.SessionPersistenceType, c.SUPPORTED_SP_TYPES),
    (m.HealthMonitorType, c.SUPPORTED_HEALTH_MONITOR_TYPES),
    (m.VRRPAuthMethod, c.SUPPORTED_VRRP_AUTH),
    (m.L7RuleType, c.SUPPORTED_L7RULE_TYPES),
    (m.L7RuleCompareType, c.SUPPORTED_L7RULE_COMPARE_TYPES),
    (m.L7PolicyAction, c.SUPPORTED_L7POLICY_ACTIONS),
    (m.ClientAuthenticationMode, c.SUPPORTED_CLIENT_AUTH_MODES),
)
with orm.Session(engine) as session:
    for model, names in lookups:
        session.add_all(model(name=name) for name in names)
    session.add(m.AmphoraBuildSlots(id=1, slots_used=0))
    # the placeholders deleted flavors and zones point at
    session.add(m.FlavorProfile(id=c.NIL_UUID, name="DELETED-PLACEHOLDER",
                                provider_name=c.DELETED, flavor_data="{}"))
    session.flush()
    session.add(m.Flavor(id=c.NIL_UUID, flavor_profile_id=c.NIL_UUID,
                         name="DELETED-PLACEHOLDER", enabled=False))
    session.add(m.AvailabilityZoneProfile(id=c.NIL_UUID, name="DELETED-PLACEHOLDER",
                                          provider_name=c.DELETED,
                                          availability_zone_data="{}"))
    session.flush()
    session.add(m.AvailabilityZone(availability_zone_profile_id=c.NIL_UUID,
                                   name=c.NIL_UUID, enabled=False))
    session.commit()
"""

# A self-signed CA for the worker's amphora certificates (cryptography is in the venv).
_CA = """\
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mini cloud octavia CA")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder().subject_name(name).issuer_name(name)
    .public_key(key.public_key()).serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(days=1))
    .not_valid_after(now + datetime.timedelta(days=3650))
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .sign(key, hashes.SHA256())
)
open(sys.argv[1], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(sys.argv[2], "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
    serialization.NoEncryption()))
"""

# Until the worker's RPC queue exists: a cast before that is dropped by the broker.
_QUEUE_PROBE = """\
import sys
import kombu

with kombu.Connection(sys.argv[1], connect_timeout=2) as connection:
    connection.default_channel.queue_declare(queue=sys.argv[2], passive=True)
"""


def octavia_version(venv: Path) -> str:
    """The installed Octavia's version (from its dist-info: no subprocess)."""
    found = sorted(venv.glob("lib/python3*/site-packages/octavia-*.dist-info"))
    if not found:
        raise MiniCloudError(f"Octavia is not installed in {venv}")
    return found[-1].name.removeprefix("octavia-").removesuffix(".dist-info")


def default_template_dir(venv: Path) -> Path:
    text = json.dumps({"format": TEMPLATE_FORMAT, "octavia": octavia_version(venv)})
    key = hashlib.sha256(text.encode()).hexdigest()[:12]
    return REPO / ".cache" / f"mini-cloud-octavia-{key}"


def octavia_conf(layout: CloudLayout, ca_dir: Path) -> str:
    """Octavia's configuration: keystonemiddleware, no-op drivers, the cloud's broker."""
    directory = layout.service_dir(SERVICE)
    return f"""\
{layout._common(SERVICE)}\
[api_settings]
auth_strategy = keystone
default_provider_driver = amphora
enabled_provider_drivers = amphora:The Octavia Amphora driver (no-op drivers here).
[database]
connection = {layout.sqlite_url(SERVICE, "octavia.sqlite")}
# Octavia's default (10) reaches SQLite's create_engine, which refuses it: unset it.
pool_timeout =
[controller_worker]
amphora_driver = amphora_noop_driver
compute_driver = compute_noop_driver
network_driver = network_noop_driver
image_driver = image_noop_driver
volume_driver = volume_noop_driver
loadbalancer_topology = SINGLE
workers = 1
client_ca = {ca_dir / "ca.pem"}
[task_flow]
jobboard_enabled = false
[certificates]
ca_certificate = {ca_dir / "ca.pem"}
ca_private_key = {ca_dir / "ca.key"}
[health_manager]
heartbeat_key = mini-cloud
[oslo_policy]
# As a 2026.1 cloud: the member role may use the API (no load-balancer_member needed).
enforce_new_defaults = true
enforce_scope = true
[oslo_concurrency]
lock_path = {directory / "locks"}
{layout._auth("keystone_authtoken", SERVICE, authtoken=True)}
{layout._auth("service_auth", SERVICE)}"""


def ensure_template(venv: Path, env: dict[str, str], template_dir: Path | None = None) -> Path:
    """Octavia's database and CA, made once per machine (built aside, renamed into place)."""
    template_dir = template_dir or default_template_dir(venv)
    if (template_dir / _TEMPLATE_MARKER).is_file():
        return template_dir
    template_dir.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=f".{template_dir.name}-", dir=template_dir.parent))
    try:
        started = time.monotonic()
        python = venv / "bin" / "python"
        database = build_dir / "octavia.sqlite"
        run_manage(
            [python, "-c", _SCHEMA, f"sqlite:///{database}"],
            cwd=build_dir,
            env=env,
            timeout_s=_MANAGE_TIMEOUT_S,
        )
        conf = build_dir / "octavia.conf"
        conf.write_text(f"[database]\nconnection = sqlite:///{database}\n")
        run_manage(
            [venv / "bin" / "octavia-db-manage", "--config-file", conf, "stamp", "head"],
            cwd=build_dir,
            env=env,
            timeout_s=_MANAGE_TIMEOUT_S,
        )
        conf.unlink()
        run_manage(
            [python, "-c", _CA, build_dir / "ca.pem", build_dir / "ca.key"],
            cwd=build_dir,
            env=env,
            timeout_s=_MANAGE_TIMEOUT_S,
        )
        (build_dir / _TEMPLATE_MARKER).write_text(json.dumps({"octavia": octavia_version(venv)}))
        try:
            build_dir.rename(template_dir)
        except OSError:
            if not (template_dir / _TEMPLATE_MARKER).is_file():
                raise  # not a builder that lost the race: something else is wrong
        LOG.info("Octavia's template ready in %.1fs", time.monotonic() - started)
        return template_dir
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


def start(
    layout: CloudLayout,
    admin: KeystoneAdmin,
    *,
    port: int,
    env: dict[str, str],
    deadline: float,
    daemons: list[Daemon],
) -> None:
    """Register Octavia in Keystone, start its API and worker, wait until both serve.

    The processes go into ``daemons`` as they start (the caller stops them with the
    rest of the cloud, also after a failure here).
    """
    venv = layout.venv
    template_dir = ensure_template(venv, env)
    directory = layout.service_dir(SERVICE)
    shutil.rmtree(directory, ignore_errors=True)
    for sub in ("state", "locks"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(template_dir / "octavia.sqlite", directory / "octavia.sqlite")
    conf = directory / "octavia.conf"
    conf.write_text(octavia_conf(layout, template_dir))
    (directory / "gunicorn.conf.py").write_text(
        layout.gunicorn_conf(SERVICE, WSGI_APP, ["--config-file", str(conf)], port=port)
    )
    started = [
        spawn(
            "octavia-api",
            [venv / "bin" / "gunicorn"],
            log=directory / "octavia-api.log",
            cwd=directory,
            env=env,
        ),
        spawn(
            "octavia-worker",
            [venv / "bin" / "octavia-worker", "--config-file", conf],
            log=directory / "octavia-worker.log",
            cwd=directory,
            env=env,
        ),
    ]
    daemons.extend(started)
    admin.create_service_user(SERVICE, layout.service_password)
    project_id = admin.project_id("service")
    if project_id is None:
        raise MiniCloudError("the cloud has no project 'service'")
    admin.token(SERVICE, layout.service_password, project_id)  # see seed.register_services
    admin.register_endpoint(SERVICE_TYPE, f"http://127.0.0.1:{port}", name=SERVICE)
    wait_for(
        f"Octavia's API on port {port}",
        lambda: (http_status(port) or 500) < 500,
        deadline=deadline,
        daemons=started,
    )
    python = venv / "bin" / "python"
    wait_for(
        f"the Octavia worker's queue {_QUEUE}",
        lambda: _queue_exists(python, layout.transport_url, env),
        deadline=deadline,
        daemons=started,
        log_tail=lambda: started[1].log_tail(3000),
    )


def _queue_exists(python: Path, transport_url: str, env: dict[str, str]) -> bool:
    amqp_url = transport_url.replace("rabbit://", "amqp://", 1)
    try:
        result = subprocess.run(
            [python, "-c", _QUEUE_PROBE, amqp_url, _QUEUE],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=15.0,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0
