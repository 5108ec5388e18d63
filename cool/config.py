"""Configuration options, registered in one place and passed down.

Nothing reads the configuration at import time: services build a
``ConfigOpts``, call :func:`register`, parse ``cool.conf`` and hand the
values they need to the objects they create.
"""

from __future__ import annotations

from oslo_config import cfg

from cool.clouds.openstack import credentials as openstack_credentials
from cool.store.client import ZooKeeperSettings
from cool.template.parse import Limits
from cool.worker.runner import RunnerSettings
from cool.worker.service import WorkerSettings

template_group = cfg.OptGroup(
    "template", title="Templates", help="Limits on the templates cool accepts."
)

template_opts = [
    cfg.IntOpt(
        "max_template_size",
        default=512 * 1024,
        min=1024,
        help="Largest template accepted, in bytes of UTF-8 text (Heat's default). Larger "
        "templates are refused before they are parsed.",
    ),
    cfg.IntOpt(
        "max_nesting_depth",
        default=64,
        min=4,
        help="Deepest nesting of mappings and lists a template may have.",
    ),
    cfg.IntOpt(
        "max_template_nodes",
        default=250_000,
        min=100,
        help="Most YAML nodes a template may expand to, counting nodes reached through "
        "aliases; refuses alias bombs such as 'billion laughs' without expanding them.",
    ),
    cfg.IntOpt(
        "max_resources",
        default=1000,
        min=1,
        help="Most resources one template may declare (Heat's max_resources_per_stack).",
    ),
    cfg.IntOpt(
        "max_stack_depth",
        default=5,
        min=0,
        max=7,  # components of a plan name stay within model.MAX_NESTED_PARTS
        help="Deepest nesting of nested stacks (template resources, OS::Heat::Stack, "
        "OS::Heat::ResourceGroup, which is a level itself, its members another), as "
        "Heat's max_nested_stack_depth. Deeper is refused at validation.",
    ),
    cfg.IntOpt(
        "max_total_resources",
        default=2000,
        min=1,
        max=10_000,  # every record of a build lives in ZooKeeper; bench/ tests this size
        help="Most resources one build may have with all its nested stacks (group members "
        "and the resources standing for nested stacks count, as Heat counts a root "
        "stack's resources against its max_resources_per_stack of 1000). Checked while "
        "the tree is expanded: a template that would make more is refused at validation.",
    ),
    cfg.IntOpt(
        "max_value_bytes",
        default=256 * 1024,
        min=1024,
        help="Largest value one function (str_replace, list_join, get_param, get_attr) may "
        "produce, in bytes, when a template is validated and when a build resolves its "
        "references. Checked before the value is made: over it is a located 400, or a "
        "failed build with a note.",
    ),
    cfg.IntOpt(
        "max_resolved_bytes",
        default=2 * 1024 * 1024,
        min=1024,
        help="Most bytes all the functions of one template may produce together (at run "
        "time: one resource's properties, or a build's outputs); also bounds the text "
        "YAML aliases may add.",
    ),
    cfg.IntOpt(
        "max_files",
        default=500,
        min=0,
        help="Most files (the request's 'files': what get_file reads, environment files) "
        "one submit or validate may carry; more is refused with 413.",
    ),
    cfg.IntOpt(
        "max_file_size",
        default=512 * 1024,
        min=1024,
        help="Largest file of a request's 'files', in bytes of UTF-8 text; larger is "
        "refused with 413.",
    ),
    cfg.IntOpt(
        "max_total_size",
        default=1024 * 1024,
        min=1024,
        help="Most bytes a request's template, files and environment may hold together "
        "(Heat bounds the whole request body to 1 MiB); more is refused with 413. Keep "
        "[oslo_middleware] max_request_body_size above twice this, as JSON escapes text.",
    ),
]


zookeeper_group = cfg.OptGroup(
    "zookeeper", title="ZooKeeper", help="Where cool keeps all of its shared state."
)

zookeeper_opts = [
    cfg.StrOpt(
        "hosts",
        default="127.0.0.1:2181",
        help="ZooKeeper ensemble as host:port pairs separated by commas (list every member).",
    ),
    cfg.StrOpt(
        "root",
        default="/cool",
        help="Znode under which this deployment keeps everything; several deployments or "
        "test runs can share one ensemble under different roots.",
    ),
    cfg.FloatOpt(
        "session_timeout",
        default=10.0,
        min=1.0,
        help="Seconds without contact after which ZooKeeper expires a session. A worker that "
        "dies loses its builds to other workers after this long; shorter means faster "
        "takeover and more false alarms on a slow network.",
    ),
    cfg.FloatOpt(
        "connect_timeout",
        default=15.0,
        min=0.1,
        help="Seconds a process waits for ZooKeeper at start-up before giving up.",
    ),
]

worker_group = cfg.OptGroup("worker", title="Workers", help="How a cool-worker runs builds.")

worker_opts = [
    cfg.IntOpt("capacity", default=8, min=1, help="Builds one worker runs at once."),
    cfg.IntOpt("parallelism", default=4, min=1, help="Steps of one build that run at once."),
    cfg.IntOpt(
        "step_threads",
        default=16,
        min=1,
        help="Threads running steps, shared by all of a worker's builds (bounds cloud calls "
        "in flight per worker).",
    ),
    cfg.FloatOpt(
        "claim_grace",
        default=0.5,
        min=0.0,
        help="Seconds a worker ranked k-th for a new build (rendezvous hashing) waits, times "
        "k, before claiming it: the first-ranked claims at once, the others only if it "
        "does not.",
    ),
    cfg.FloatOpt(
        "poll_interval",
        default=0.25,
        min=0.01,
        help="Seconds between the first two looks at a cloud resource that is not ready "
        "yet (the first comes at once, or after this when the create's reply said not "
        "ready). Short: a look at a cloud that answers in 100 ms costs less than a "
        "second of waiting for a resource that is ready.",
    ),
    cfg.FloatOpt(
        "poll_interval_max",
        default=1.0,
        min=0.01,
        help="Longest wait between two looks at a resource that is not ready: the wait "
        "starts at poll_interval and grows by half each look up to this. It bounds how "
        "late a resource is seen ready; [openstack] max_calls_per_worker and "
        "max_calls_per_cloud bound how many looks are in flight.",
    ),
    cfg.FloatOpt(
        "stop_timeout",
        default=30.0,
        min=0.0,
        help="On SIGTERM, seconds builds get to reach a checkpoint and be handed over.",
    ),
    cfg.StrOpt(
        "provider",
        default="sim",
        choices=[
            ("sim", "the simulated cloud (SQLite; demos and tests)"),
            ("openstack", "a real OpenStack cloud through openstacksdk"),
        ],
        help="The cloud provider that runs OpenStack resource types.",
    ),
]

sim_group = cfg.OptGroup(
    "sim",
    title="Simulated cloud",
    help="The 'sim' provider: a SIMULATION of a cloud in a SQLite file shared by the "
    "workers of one host, for demos, load and chaos tests. It builds nothing real.",
)

sim_opts = [
    cfg.StrOpt(
        "database",
        default="/var/lib/cool/sim.sqlite",
        help="SQLite file holding the simulated cloud (created if missing).",
    ),
    cfg.FloatOpt(
        "latency", default=0.5, min=0.0, help="Seconds a simulated resource takes to be ready."
    ),
    cfg.FloatOpt(
        "failure_rate",
        default=0.0,
        min=0.0,
        max=1.0,
        help="Probability that a simulated create fails with a transient error.",
    ),
]


signal_group = cfg.OptGroup(
    "signal",
    title="Signals",
    help="How servers signal wait condition handles (OS::Heat::WaitConditionHandle).",
)

signal_opts = [
    cfg.URIOpt(
        "endpoint",
        schemes=["http", "https"],
        help="The URL at which servers reach cool-api (its public endpoint, without "
        "/v1), read by the workers: a handle's endpoint and curl_cli are made from it. "
        "Unset, a build with a wait condition handle fails at the handle's create "
        "with a note saying so.",
    ),
]


openstack_group = cfg.OptGroup(
    "openstack",
    title="OpenStack provider",
    help="The 'openstack' provider: real resources through openstacksdk (docs/openstack.md).",
)

openstack_opts = [
    cfg.StrOpt(
        "credentials",
        default="trust",
        choices=[
            (
                "trust",
                "act for the submitter through the Keystone trust the API made at submit "
                "(cool's service user in [trustee] is the trustee)",
            ),
            ("cloud", "act as the clouds.yaml cloud named by 'cloud' (standalone, no Keystone)"),
        ],
        help="Whose authority workers use in the cloud.",
    ),
    cfg.StrOpt(
        "cloud",
        default="",
        help="With credentials = cloud: the cloud's name in clouds.yaml (openstacksdk's "
        "usual search path, or OS_CLIENT_CONFIG_FILE).",
    ),
    cfg.StrOpt("region_name", default="", help="Region of the cloud's endpoints ('' = any)."),
    cfg.StrOpt(
        "interface",
        default="public",
        choices=["public", "internal", "admin"],
        help="Which endpoints of the Keystone catalog workers call.",
    ),
    cfg.IntOpt(
        "max_calls_per_worker",
        default=8,
        min=1,
        help="API calls one worker has in flight to one cloud at most (all its builds "
        "together); further calls wait their turn.",
    ),
    cfg.IntOpt(
        "max_calls_per_cloud",
        default=0,
        min=0,
        help="API calls all workers together have in flight to one cloud at most "
        "(a ZooKeeper semaphore per cloud); 0 means no cap beyond max_calls_per_worker.",
    ),
    cfg.BoolOpt(
        "neutron_tags",
        default=False,
        help="Also tag networks, subnets, routers, security groups, floating IPs, trunks "
        "and QoS policies with cool-build=<id> and cool-resource=<name>, for operators "
        "who filter on tags. Neutron takes tags in a create only for ports (which get "
        "them either way), so this costs one more Neutron call per resource, on the "
        "build's path. Off, such a resource carries the same mark in its description, "
        "which is what cool finds it by after a crash; the template's own tags are set "
        "either way, as Heat sets them.",
    ),
]

gc_group = cfg.OptGroup(
    "gc",
    title="Garbage collection",
    help="Pruning finished builds. One worker at a time does it: the one that wins the "
    "ZooKeeper election.",
)

gc_opts = [
    cfg.FloatOpt(
        "retention",
        default=7 * 24 * 3600.0,
        min=0.0,
        help="Seconds a finished build stays queryable before it is pruned.",
    ),
    cfg.IntOpt(
        "max_finished",
        default=10_000,
        min=0,
        help="Most finished builds kept; above this the oldest are pruned first, whatever "
        "their age.",
    ),
    cfg.FloatOpt(
        "interval",
        default=60.0,
        min=0.1,
        help="Seconds between two passes of the garbage collector.",
    ),
    cfg.IntOpt(
        "batch_size",
        default=100,
        min=1,
        help="Builds pruned per ZooKeeper round trip, so that a large backlog never stalls "
        "ZooKeeper.",
    ),
    cfg.BoolOpt("enabled", default=True, help="Whether workers take part in the GC election."),
    cfg.FloatOpt(
        "unstored_trust_grace",
        default=900.0,
        min=60.0,
        help="Seconds after which a Keystone trust made for a submit whose build was never "
        "stored (its cool-api died in between) is deleted. Longer than any submit takes: "
        "a submit still running when it is reached fails with 503, and nothing is stored.",
    ),
]

build_group = cfg.OptGroup("build", title="Builds", help="Limits on every build.")

build_opts = [
    cfg.IntOpt(
        "default_timeout",
        default=60,
        min=1,
        help="Minutes a build may take when its request gives no timeout_mins.",
    ),
    cfg.IntOpt("max_timeout", default=24 * 60, min=1, help="Largest timeout_mins accepted."),
    cfg.IntOpt(
        "max_claims",
        default=5,
        min=1,
        help="How many times a build may be claimed after its worker died before it is "
        "failed as poison (a build that keeps killing its workers); graceful handovers "
        "do not count.",
    ),
]


api_group = cfg.OptGroup("api", title="API", help="The cool-api service.")

api_opts = [
    cfg.HostAddressOpt("bind_host", default="127.0.0.1", help="Address cool-api listens on."),
    cfg.PortOpt("bind_port", default=8990, help="Port cool-api listens on."),
    cfg.IntOpt(
        "workers",
        default=2,
        min=1,
        help="gunicorn worker processes. Each has its own ZooKeeper session; the API is "
        "stateless, so add processes (or hosts behind a load balancer) to scale.",
    ),
    cfg.IntOpt(
        "threads",
        default=32,
        min=1,
        help="Threads per worker process: the requests one process serves at once. A "
        "long-poll of events holds a thread while it waits (at most half of them wait). "
        "Only complete requests reach a thread: slow clients cost none.",
    ),
    cfg.IntOpt(
        "max_connections",
        default=1000,
        min=1,
        help="Open connections per worker process; one past it is answered 503 and "
        "closed. Each may hold its headers and, while it arrives, its body.",
    ),
    cfg.FloatOpt(
        "header_timeout",
        default=10.0,
        min=0.1,
        help="Seconds a new connection has to send its request headers; later, a 408 "
        "and the connection closed.",
    ),
    cfg.FloatOpt(
        "body_timeout",
        default=30.0,
        min=0.1,
        help="Seconds a request has to send its whole body once its headers are in; "
        "later, a 408 and the connection closed.",
    ),
    cfg.FloatOpt(
        "send_timeout",
        default=30.0,
        min=0.1,
        help="Seconds one write of a response may wait for a client that does not read "
        "it (and a closed connection for its last bytes to go); later, the connection "
        "is dropped.",
    ),
    cfg.IntOpt(
        "max_buffered_bytes",
        default=64 * 1024 * 1024,
        min=65536,
        help="Request body bytes one worker process holds at once, over all its "
        "requests, while they arrive and run. A body that would go past it waits up "
        "to a second, then is answered 503 with Retry-After. Keep it above [oslo_middleware] "
        "max_request_body_size.",
    ),
    cfg.IntOpt(
        "idle_timeout",
        default=75,
        min=0,
        help="Seconds a kept-alive connection may wait for the headers of its next "
        "request before it is closed; 0 closes every connection after one response. "
        "Keep it well above the period clients poll at (heatclient and openstacksdk "
        "wait on events every 5 s, gophercloud every 3 s): a close racing a client's "
        "next request on the same connection fails that request (RemoteDisconnected).",
    ),
    cfg.IntOpt(
        "max_request_line",
        default=8190,
        min=64,
        help="Longest request line (method, path with query, version) in bytes; a "
        "longer one is answered 414 and the connection closed.",
    ),
    cfg.IntOpt(
        "max_header_size",
        default=8190,
        min=64,
        help="Longest request header line in bytes; past it, or past max_headers "
        "headers, 431 and the connection closed.",
    ),
    cfg.IntOpt("max_headers", default=100, min=1, help="Most request headers."),
    cfg.StrOpt(
        "auth_strategy",
        default="keystone",
        choices=[
            (
                "keystone",
                "Keystone tokens through keystonemiddleware's auth_token ([keystone_authtoken])",
            ),
            ("http_basic", "HTTP basic auth against a bcrypt htpasswd file ([http_basic])"),
            (
                "noauth",
                "no authentication, for development only: cool-api refuses to "
                "listen on anything but loopback",
            ),
        ],
        help="How callers are authenticated.",
    ),
    cfg.IntOpt(
        "default_limit", default=100, min=1, help="Builds or events in a page without ?limit."
    ),
    cfg.IntOpt(
        "max_limit",
        default=1000,
        min=1,
        help="Most builds or events in one page; a larger ?limit is lowered to this, as "
        "the API-SIG pagination guideline says.",
    ),
    cfg.FloatOpt(
        "max_event_wait",
        default=60.0,
        min=0.0,
        help="Longest ?wait a long-poll of events may ask for, in seconds (larger values "
        "are lowered to this).",
    ),
    cfg.FloatOpt(
        "zookeeper_timeout",
        default=5.0,
        min=0.1,
        help="Seconds a request waits for a ZooKeeper reply before answering 503.",
    ),
    cfg.IntOpt(
        "retry_after",
        default=5,
        min=1,
        help="Seconds a client is told to wait (Retry-After) when ZooKeeper is unreachable.",
    ),
    cfg.IntOpt(
        "max_name_length", default=255, min=1, help="Longest build name accepted, in characters."
    ),
    cfg.FloatOpt(
        "policy_cache_ttl",
        default=5.0,
        min=0.0,
        help="Seconds a policy decision (a rule, a caller's credentials, a target) is "
        "remembered; a changed policy.yaml applies within this long. 0 asks oslo.policy "
        "on every request.",
    ),
]

http_basic_group = cfg.OptGroup(
    "http_basic",
    title="HTTP basic auth",
    help="auth_strategy = http_basic: users in an Apache htpasswd file (bcrypt only, "
    "checked by oslo.middleware), each given a project and roles here.",
)

http_basic_opts = [
    cfg.StrOpt(
        "htpasswd_file",
        default="/etc/cool/htpasswd",
        help="Apache htpasswd file with bcrypt entries (htpasswd -B).",
    ),
    cfg.MultiStrOpt(
        "user",
        default=[],
        help="USER:PROJECT:ROLE[,ROLE...], one per user (repeat the option). A user not "
        "listed here is authenticated but may do nothing. Roles imply each other as "
        "Keystone's defaults do: admin implies member, member implies reader.",
    ),
    cfg.IntOpt(
        "cache_ttl",
        default=300,
        min=0,
        help="Seconds a checked user and password are remembered (bcrypt is slow on "
        "purpose); 0 checks every request. A changed htpasswd file clears the memory.",
    ),
    cfg.IntOpt(
        "failure_cache_ttl",
        default=10,
        min=0,
        help="Seconds a wrong user and password are remembered after their last try, "
        "so that repeating them costs no bcrypt check; 0 checks every request.",
    ),
    cfg.IntOpt(
        "concurrent_checks",
        default=2,
        min=1,
        help="bcrypt checks one process runs at once; four times as many wait (5 s at "
        "most), and a request past those is answered 503 with Retry-After at once.",
    ),
]

noauth_group = cfg.OptGroup(
    "noauth",
    title="No authentication",
    help="auth_strategy = noauth (development only): every request acts as this user, "
    "unless it says otherwise in X-User-Id, X-Project-Id and X-Roles headers.",
)

noauth_opts = [
    cfg.StrOpt("user_id", default="developer", help="User requests act as."),
    cfg.StrOpt("project_id", default="development", help="Project requests act in."),
    cfg.ListOpt("roles", default=["admin", "member", "reader"], help="Roles requests have."),
]


def register(conf: cfg.ConfigOpts) -> None:
    for group, opts in list_opts():
        if group.name == openstack_credentials.TRUSTEE_GROUP:
            continue  # keystoneauth's options follow its auth_type: registered its way
        conf.register_group(group)
        conf.register_opts(opts, group=group)
    openstack_credentials.register_opts(conf)


def zookeeper_settings(conf: cfg.ConfigOpts) -> ZooKeeperSettings:
    group = conf.zookeeper
    return ZooKeeperSettings(
        hosts=group.hosts,
        root=group.root,
        session_timeout_s=group.session_timeout,
        connect_timeout_s=group.connect_timeout,
    )


def worker_settings(conf: cfg.ConfigOpts) -> WorkerSettings:
    group = conf.worker
    return WorkerSettings(
        capacity=group.capacity,
        step_threads=group.step_threads,
        claim_grace_s=group.claim_grace,
        stop_timeout_s=group.stop_timeout,
        max_claims=conf.build.max_claims,
        runner=RunnerSettings(
            parallelism=group.parallelism,
            poll_interval_s=group.poll_interval,
            poll_interval_max_s=max(group.poll_interval, group.poll_interval_max),
            guard_wait_s=conf.zookeeper.session_timeout,
            limits=template_limits(conf),
        ),
    )


def template_limits(conf: cfg.ConfigOpts) -> Limits:
    group = conf.template
    return Limits(
        max_size=group.max_template_size,
        max_depth=group.max_nesting_depth,
        max_nodes=group.max_template_nodes,
        max_resources=group.max_resources,
        max_stack_depth=group.max_stack_depth,
        max_total_resources=group.max_total_resources,
        max_value_bytes=group.max_value_bytes,
        max_resolved_bytes=group.max_resolved_bytes,
    )


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """For oslo-config-generator (entry point ``oslo.config.opts``: cool)."""
    return [
        (template_group, template_opts),
        (zookeeper_group, zookeeper_opts),
        (worker_group, worker_opts),
        (sim_group, sim_opts),
        (signal_group, signal_opts),
        (openstack_group, openstack_opts),
        (gc_group, gc_opts),
        (build_group, build_opts),
        (api_group, api_opts),
        (http_basic_group, http_basic_opts),
        (noauth_group, noauth_opts),
        *openstack_credentials.list_opts(),
    ]
