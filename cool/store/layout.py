"""The znode tree of one cool deployment: documented here once, built only here.

Everything lives under a configurable root (default ``/cool``), so several
deployments or test runs can share one ensemble::

    <root>/builds/<shard>/<build_id>            plan and metadata (project, user, name,
                                                created, deadline, request id); written once
    <root>/builds/<shard>/<build_id>/state      status, reason, note, progress, outputs
    <root>/builds/<shard>/<build_id>/lease      owner worker and claim count; its *version*
                                                is the epoch, the fencing token of the owner
    <root>/builds/<shard>/<build_id>/resources/<name>
                                                one resource's step: status, physical id,
                                                attributes, attempts, error. A nested
                                                stack's resource (``web/0/server``) is
                                                stored as ``web~0~server``: see
                                                resource_znode
    <root>/builds/<shard>/<build_id>/events/ev-<seq>
                                                sequential, small, append-only
    <root>/builds/<shard>/<build_id>/control    requests from the API (cancel, delete)
    <root>/builds/<shard>/<build_id>/source     what the build was made from, as the API
                                                shows it back (template as data, environment
                                                with hidden values masked, files);
                                                compressed, written once with the build
    <root>/builds/<shard>/<build_id>/signals/<handle>
                                                a wait condition handle (``resource_znode`` of
                                                its name): the SHA-256 of its token, never the
                                                token, and how many signals and bytes it holds.
                                                Created by the handle's fenced create, removed
                                                by its delete; every signal written bumps it
                                                (what a waiting worker watches)
    <root>/builds/<shard>/<build_id>/signals/<handle>/s-<id_digest>
                                                one signal (status, reason, data, id): named
                                                by the SHA-256 of its id, so a signal sent
                                                again with its id replaces itself
    <root>/pending/<shard>/<build_id>           builds that need a worker (gone when terminal),
                                                in their shard (see cool/store/pending.py):
                                                no one lists the whole queue. Every shard's
                                                node exists (ensure_shards). An entry right
                                                under pending/ is one queued by cool before
                                                the queue was sharded: workers move it
    <root>/claims/<build_id>                    EPHEMERAL: the current owner's claim
    <root>/workers/<worker_id>                  EPHEMERAL: live workers, capacity and load
    <root>/index/projects/<project_id>/<id[:5]>/<id[5:7]>/<build_id>
                                                per-project listing, in time buckets (the
                                                ULID's leading characters: ~9.3 h, then
                                                ~33 s; cool/store/project_index.py), so a
                                                page reads only the newest buckets. An
                                                entry right under the project is one
                                                indexed before the buckets: listed too
    <root>/index/names/<project_id>/<name_digest>
                                                the live build that holds a name in its
                                                project (its id and the name): created by
                                                the submit's transaction (a second build of
                                                that name fails it whole), removed by the one
                                                that records DELETE_COMPLETE, or by the
                                                build's prune. name_digest: SHA-256 of the
                                                name, so any name the API accepts (any
                                                printable text, any length it allows) names
                                                a znode; one read finds a build by name
    <root>/index/idempotency/<project_id>/<key_digest>
                                                the build an Idempotency-Key made (its id
                                                and the request's digest); pruned with it
    <root>/trusts/<trust_id>                    the Keystone trust of a pruned build, to be
                                                deleted: created in the build's prune
                                                transaction, removed once Keystone has
                                                deleted it (holds the build id)
    <root>/new-trusts/<trust_id>                a trust made for a submit whose build is
                                                not stored yet (its build id, when made):
                                                removed by the build's own transaction;
                                                one left old (its cool-api died) is moved
                                                to trusts/ by the GC
    <root>/clouds/<cloud_key>/calls             a kazoo Semaphore: one EPHEMERAL lease per API
                                                call in flight to that cloud, across every
                                                worker ([openstack] max_calls_per_cloud);
                                                kazoo keeps its lock beside it, in
                                                calls-__lock__. cloud_key: a digest of the
                                                cloud's Keystone URL (cloud_key below);
                                                taken and freed by store/slots.py

A build id is a ULID (26 characters of Crockford base32, time-ordered). Its
shard is its last two characters (1,024 shards, spread evenly because they
come from the ULID's random part), so the id *is* the encoded directory.
Every id and name is checked against a strict pattern before a path is
built from it: nothing odd (``..``, ``/``, control characters) ever reaches
ZooKeeper.
"""

from __future__ import annotations

import functools
import hashlib
import re

from ulid import ULID

from cool.errors import CoolError
from cool.model import NESTED_SEPARATOR

BUILD_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
SHARD = re.compile(r"[0-9A-HJKMNP-TV-Z]{2}")
INDEX_BUCKETS = (5, 2)  # characters of a build id naming its index buckets: ~9.3 h, ~33 s
PROJECT_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
USER_ID = re.compile(r"[A-Za-z0-9_@][A-Za-z0-9_@.\-]{0,254}")
WORKER_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
KEY_DIGEST = re.compile(r"[0-9a-f]{64}")
TRUST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # Keystone's are 32 hex digits
RESOURCE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}")  # one component
ZNODE_SEPARATOR = "~"  # what "/" becomes in a znode name: never in RESOURCE_NAME
MAX_NESTED_COMPONENTS = 16  # 5 nesting levels; a group adds two (itself and the index)
MAX_RESOURCE_NAME = 1024  # characters of a whole nested name
CLOUD_KEY = re.compile(r"[0-9a-f]{24}")
ROOT = re.compile(r"(/[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63})+")
EVENT_PREFIX = "ev-"
SIGNAL_PREFIX = "s-"
SIGNAL_DIGEST = re.compile(r"[0-9a-f]{32}")


PLAN_PREFIX = "plan-"  # a resized plan's node: plan-<version, ten digits>


class IdInvalidError(CoolError):
    """An id or name that cannot name a znode. The API answers 404 for build ids."""

    code = "cool.store.invalid_id"
    status = 404
    title = "Not found"


def new_build_id() -> str:
    return str(ULID())


def is_build_id(value: object) -> bool:
    return isinstance(value, str) and BUILD_ID.fullmatch(value) is not None


def is_trust_id(value: object) -> bool:
    return isinstance(value, str) and TRUST_ID.fullmatch(value) is not None


def cloud_key(auth_url: str) -> str:
    """A cloud's name in the tree: a digest of its Keystone URL (every region, project
    and trust of one cloud share it). The digest clouds/openstack/limits.py used before
    it moved here: workers of both versions must agree on it."""
    return hashlib.sha256(auth_url.rstrip("/").encode()).hexdigest()[:24]


def name_digest(name: str) -> str:
    """A build name's znode name: its SHA-256 (surrogates, which a name cannot hold
    in UTF-8, are kept apart rather than refused here)."""
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


def _checked(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise IdInvalidError(f"{what} {value!r} is not valid")
    return value


def resource_znode(name: str) -> str:
    """A resource's znode name: a nested name's ``/`` (which a znode name cannot hold)
    becomes ``~``, which no component may hold, so the mapping is collision-free and
    reversible, and a plain name (no ``/``) is its own znode name, as it always was."""
    if not isinstance(name, str):
        raise IdInvalidError(f"resource name {name!r} is not valid")
    components = name.split(NESTED_SEPARATOR)
    if len(components) > MAX_NESTED_COMPONENTS or len(name) > MAX_RESOURCE_NAME:
        raise IdInvalidError(
            f"resource name {name[:64]!r}... is too long or nested too deep"
            f" (at most {MAX_NESTED_COMPONENTS} components, {MAX_RESOURCE_NAME} characters)"
        )
    if not all(RESOURCE_NAME.fullmatch(component) for component in components):
        raise IdInvalidError(f"resource name {name!r} is not valid")
    return ZNODE_SEPARATOR.join(components)


def resource_name(znode: str) -> str:
    """The resource a znode under ``resources`` records: :func:`resource_znode` undone."""
    if not isinstance(znode, str) or NESTED_SEPARATOR in znode:
        raise IdInvalidError(f"resource znode {znode!r} is not valid")
    name = znode.replace(ZNODE_SEPARATOR, NESTED_SEPARATOR)
    resource_znode(name)  # checks every component: only what the encoding makes decodes
    return name


def index_buckets(build_id: str) -> tuple[str, str]:
    """The two time buckets a build's project index entry sits under."""
    first, second = INDEX_BUCKETS
    return build_id[:first], build_id[first : first + second]


@functools.lru_cache(maxsize=4096)
def _build_dir(builds: str, build_id: str) -> str:
    """A build's directory, remembered: every write of a step names a few of its paths,
    and each check of the id is a regular expression (a bounded cache; an invalid id
    raises, and is not cached)."""
    return f"{builds}/{Layout.shard(build_id)}/{build_id}"


class Layout:
    """Paths of the tree under one root. The only place that joins znode paths."""

    def __init__(self, root: str = "/cool") -> None:
        self.root = _checked(ROOT, root, "ZooKeeper root")
        self.builds = f"{root}/builds"
        self.pending = f"{root}/pending"
        self.claims = f"{root}/claims"
        self.workers = f"{root}/workers"
        self.projects = f"{root}/index/projects"
        self.idempotency = f"{root}/index/idempotency"
        self.names = f"{root}/index/names"
        self.gc_election = f"{root}/election/gc"
        self.trusts = f"{root}/trusts"
        self.new_trusts = f"{root}/new-trusts"
        self.clouds = f"{root}/clouds"

    @staticmethod
    def shard(build_id: str) -> str:
        return _checked(BUILD_ID, build_id, "build id")[-2:]

    def shard_path(self, build_id: str) -> str:
        return self.shard_dir(self.shard(build_id))

    def shard_dir(self, shard: str) -> str:
        """A shard's directory by its name (two characters, as listed under ``builds``)."""
        return f"{self.builds}/{_checked(SHARD, shard, 'shard')}"

    def build(self, build_id: str) -> str:
        if not isinstance(build_id, str):  # unhashable, say: refused before the cache
            _checked(BUILD_ID, build_id, "build id")
        return _build_dir(self.builds, build_id)

    def state(self, build_id: str) -> str:
        return f"{self.build(build_id)}/state"

    def lease(self, build_id: str) -> str:
        return f"{self.build(build_id)}/lease"

    def control(self, build_id: str) -> str:
        return f"{self.build(build_id)}/control"

    def source(self, build_id: str) -> str:
        return f"{self.build(build_id)}/source"

    def recipe(self, build_id: str) -> str:
        """What a resize compiles again (cool.store.scaling): kept for builds that scale."""
        return f"{self.build(build_id)}/recipe"

    def plan(self, build_id: str, version: int) -> str:
        """A resized plan (version 1 on: version 0 is stored with the build's meta)."""
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise IdInvalidError(f"invalid plan version {version!r}")
        return f"{self.build(build_id)}/{PLAN_PREFIX}{version:010d}"

    def resources(self, build_id: str) -> str:
        return f"{self.build(build_id)}/resources"

    def resource(self, build_id: str, name: str) -> str:
        return f"{self.resources(build_id)}/{resource_znode(name)}"

    def signals(self, build_id: str) -> str:
        return f"{self.build(build_id)}/signals"

    def signal_handle(self, build_id: str, handle: str) -> str:
        return f"{self.signals(build_id)}/{resource_znode(handle)}"

    def signal(self, build_id: str, handle: str, id_digest: str) -> str:
        digest = _checked(SIGNAL_DIGEST, id_digest, "signal id digest")
        return f"{self.signal_handle(build_id, handle)}/{SIGNAL_PREFIX}{digest}"

    def events(self, build_id: str) -> str:
        return f"{self.build(build_id)}/events"

    def event_prefix(self, build_id: str) -> str:
        """The path a sequential create appends its sequence number to."""
        return f"{self.events(build_id)}/{EVENT_PREFIX}"

    def pending_shard(self, shard: str) -> str:
        return f"{self.pending}/{_checked(SHARD, shard, 'shard')}"

    def pending_build(self, build_id: str) -> str:
        return f"{self.pending_shard(self.shard(build_id))}/{build_id}"

    def flat_pending_build(self, build_id: str) -> str:
        """Where cool queued a build before the queue was sharded."""
        return f"{self.pending}/{_checked(BUILD_ID, build_id, 'build id')}"

    def claim(self, build_id: str) -> str:
        return f"{self.claims}/{_checked(BUILD_ID, build_id, 'build id')}"

    def worker(self, worker_id: str) -> str:
        return f"{self.workers}/{_checked(WORKER_ID, worker_id, 'worker id')}"

    def project(self, project_id: str) -> str:
        return f"{self.projects}/{_checked(PROJECT_ID, project_id, 'project id')}"

    def project_bucket(self, project_id: str, build_id: str) -> str:
        """The time bucket a build's index entry sits in (cool/store/project_index.py)."""
        first, second = index_buckets(_checked(BUILD_ID, build_id, "build id"))
        return f"{self.project(project_id)}/{first}/{second}"

    def project_build(self, project_id: str, build_id: str) -> str:
        return f"{self.project_bucket(project_id, build_id)}/{build_id}"

    def flat_project_build(self, project_id: str, build_id: str) -> str:
        """Where cool indexed a build before the index had time buckets."""
        return f"{self.project(project_id)}/{_checked(BUILD_ID, build_id, 'build id')}"

    def idempotency_project(self, project_id: str) -> str:
        return f"{self.idempotency}/{_checked(PROJECT_ID, project_id, 'project id')}"

    def idempotency_key(self, project_id: str, key_digest: str) -> str:
        """Where a project's Idempotency-Key (by its SHA-256 digest) names its build."""
        digest = _checked(KEY_DIGEST, key_digest, "idempotency key digest")
        return f"{self.idempotency_project(project_id)}/{digest}"

    def names_project(self, project_id: str) -> str:
        return f"{self.names}/{_checked(PROJECT_ID, project_id, 'project id')}"

    def name(self, project_id: str, name: str) -> str:
        """Where the live build that holds ``name`` in a project is named (by the
        name's digest: a name may hold any printable character, ``/`` too)."""
        if not isinstance(name, str) or not name:
            raise IdInvalidError(f"build name {name!r} is not valid")
        return f"{self.names_project(project_id)}/{name_digest(name)}"

    def trust(self, trust_id: str) -> str:
        """Where a pruned build's Keystone trust waits to be deleted."""
        return f"{self.trusts}/{_checked(TRUST_ID, trust_id, 'trust id')}"

    def new_trust(self, trust_id: str) -> str:
        """Where a trust made for a submit waits for its build to be stored."""
        return f"{self.new_trusts}/{_checked(TRUST_ID, trust_id, 'trust id')}"

    def call_slots(self, cloud_key: str) -> str:
        """The semaphore of the API calls in flight to one cloud (by its :func:`cloud_key`)."""
        return f"{self.clouds}/{_checked(CLOUD_KEY, cloud_key, 'cloud key')}/calls"

    def top_level(self) -> list[str]:
        """The containers every deployment has."""
        return [
            self.builds,
            self.pending,
            self.claims,
            self.workers,
            self.projects,
            self.idempotency,
            self.names,
        ]
