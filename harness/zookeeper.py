"""A real ZooKeeper on loopback, from the Debian ``zookeeper`` package.

Used by the test fixtures and by the local run command alike, so that what
the tests exercise is what a newcomer runs: a real server (never a fake),
on 127.0.0.1, with its data, configuration and log in one directory::

    <base_dir>/zoo.cfg         generated configuration
    <base_dir>/data/           dataDir (snapshots, transaction log, myid)
    <base_dir>/tmp/            java.io.tmpdir
    <base_dir>/zookeeper.log   the JVM's stdout and stderr (slf4j-simple)

``tickTime`` is short (default 200 ms) so that sessions can be short and
expire fast in tests; the session timeout a client asks for is clamped to
``[min_session_timeout_ms, max_session_timeout_ms]``. ``jute.maxbuffer`` is
left at ZooKeeper's default (1 MiB - 1 byte): the largest znode, and the
reason cool refuses oversized templates before storing them.

Readiness and roles are read with the four-letter words (``srvr``) over a
plain socket: only ``cool.store`` speaks kazoo.

Client connections are served by Netty, not by the default NIO factory: in
ZooKeeper 3.8.0 a connection that arrives while the server is still loading
its data is never closed (a NullPointerException in the close path,
ZOOKEEPER-5051), so a client reconnecting during a restart hangs for its whole
connect timeout (kazoo: session timeout / number of hosts) and can lose its
session. The Debian jar's manifest omits ``netty-codec.jar``, which Netty
needs, so it is added to the class path; without it we fall back to NIO.

Run one in the foreground (the local system's run command does)::

    python -m harness.zookeeper --port 2181 --dir /var/tmp/cool-zk
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Self

from cool.errors import CoolError

LOG = logging.getLogger(__name__)

ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")
# Dependencies of the zookeeper package; without a binding slf4j drops every line.
SLF4J_SIMPLE_JAR = Path("/usr/share/java/slf4j-simple.jar")
NETTY_CODEC_JAR = Path("/usr/share/java/netty-codec.jar")
INSTALL_HINT = "apt-get install -y zookeeper"
JAVA_INSTALL_HINT = "apt-get install -y default-jre-headless"
HOST = "127.0.0.1"

_STANDALONE_MAIN = "org.apache.zookeeper.server.ZooKeeperServerMain"
_QUORUM_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
_NETTY_FACTORY = "org.apache.zookeeper.server.NettyServerCnxnFactory"
_POLL_INTERVAL_S = 0.05
_PROBE_TIMEOUT_S = 0.5  # a probe the server never answers must not stall a wait
_LOG_TAIL_LINES = 40
_PORT_MOVES = 2


class ZooKeeperError(CoolError):
    """A local ZooKeeper could not be found, started, or did not answer."""

    code = "harness.zookeeper"
    title = "Local ZooKeeper problem"


class ZooKeeperNotInstalledError(ZooKeeperError):
    """Java or the ZooKeeper jars are missing: install them, then retry."""

    code = "harness.zookeeper.not_installed"


class ZooKeeperTimeoutError(ZooKeeperError):
    """A server did not reach the awaited condition in time (or died)."""

    code = "harness.zookeeper.timeout"
    retryable = True


class ZooKeeperMode(StrEnum):
    """A server's role as ``srvr`` reports it."""

    STANDALONE = "standalone"
    LEADER = "leader"
    FOLLOWER = "follower"
    OBSERVER = "observer"


def find_zookeeper_jar(jar: Path = ZOOKEEPER_JAR) -> Path:
    """The server jar; its manifest's Class-Path brings the other jars."""
    if not jar.is_file():
        raise ZooKeeperNotInstalledError(
            f"ZooKeeper is not installed ({jar} is missing): run `{INSTALL_HINT}`"
        )
    return jar


def find_java() -> str:
    """The ``java`` on PATH (the zookeeper package pulls in a Java runtime)."""
    java = shutil.which("java")
    if java is None:
        raise ZooKeeperNotInstalledError(
            f"`java` is not on PATH: run `{JAVA_INSTALL_HINT}` (or `{INSTALL_HINT}`)"
        )
    return java


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct ports that were free a moment ago.

    All are held open together so they differ; another process may still take
    one before the server binds it (rare on a test machine).
    """
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port(host: str = HOST) -> int:
    """One port that was free a moment ago (see :func:`free_ports`)."""
    return free_ports(1, host)[0]


def four_letter_word(port: int, word: str, *, host: str = HOST, timeout_s: float = 2.0) -> str:
    """Send a four-letter command (``ruok``, ``srvr``, ...) and return the reply.

    Raises ``OSError`` when nothing listens or the server does not answer.
    """
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(word.encode("ascii"))
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def _parse_mode(srvr_reply: str) -> ZooKeeperMode | None:
    for line in srvr_reply.splitlines():
        if line.startswith("Mode:"):
            try:
                return ZooKeeperMode(line.partition(":")[2].strip())
            except ValueError:
                return None
    return None  # "This ZooKeeper instance is not currently serving requests"


class ZooKeeperServer:
    """One ZooKeeper JVM on 127.0.0.1: standalone, or a member of an ensemble.

    The base directory is a temporary one the server owns (removed by
    :meth:`stop` unless ``keep``) or one the caller gives (never removed).
    :meth:`kill` and :meth:`restart` keep the data directory and the port, so
    a test can crash and bring back the same server. The JVM is started with
    ``setpriv --pdeathsig KILL`` where available, so it dies with the thread
    that started it even if Python is SIGKILLed: start servers from a thread
    that lives as long as they should (the main thread, in tests).
    """

    def __init__(
        self,
        *,
        base_dir: Path | None = None,
        port: int | None = None,
        tick_time_ms: int = 200,
        min_session_timeout_ms: int | None = None,
        max_session_timeout_ms: int | None = None,
        force_sync: bool = True,
        heap_mb: int = 256,
        keep: bool = False,
        server_id: int | None = None,
        peers: Mapping[int, tuple[int, int]] | None = None,
        die_with_parent: bool = True,
    ) -> None:
        """``peers`` maps server id -> (quorum port, election port) of every member;
        with ``server_id``, it makes this a member of an ensemble (see
        :class:`ZooKeeperEnsemble`). Session timeouts default to ZooKeeper's
        (2 and 20 ticks). ``force_sync=False`` skips fsync of the transaction
        log: faster tests, data still survives a process kill (not a power cut).
        ``die_with_parent=False`` leaves out ``setpriv --pdeathsig``: for a server
        meant to outlive the process that starts it (the local system).
        """
        if (server_id is None) != (peers is None):
            raise ValueError("server_id and peers go together")
        if peers is not None and server_id not in peers:
            raise ValueError(f"server_id {server_id} is not among the peers {sorted(peers)}")
        self.port = port if port is not None else free_port()
        # A port we picked may be taken before the JVM binds it: then we pick again,
        # but only until the server has served once (restarts keep their port).
        self._may_move = port is None
        self.tick_time_ms = tick_time_ms
        self.min_session_timeout_ms = min_session_timeout_ms
        self.max_session_timeout_ms = max_session_timeout_ms
        self.force_sync = force_sync
        self.heap_mb = heap_mb
        self.keep = keep
        self.server_id = server_id
        self.peers = dict(peers) if peers is not None else None
        self.die_with_parent = die_with_parent
        self._owns_dir = base_dir is None
        self._base_dir = base_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    # -- where things are

    @property
    def hosts(self) -> str:
        """The connection string a client takes ("127.0.0.1:PORT")."""
        return f"{HOST}:{self.port}"

    @property
    def base_dir(self) -> Path:
        if self._base_dir is None:
            self._base_dir = Path(tempfile.mkdtemp(prefix="cool-zk-"))
        return self._base_dir

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "zookeeper.log"

    @property
    def config_path(self) -> Path:
        return self.base_dir / "zoo.cfg"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def expected_modes(self) -> frozenset[ZooKeeperMode]:
        """The modes in which this server serves clients."""
        if self.peers is None:
            return frozenset({ZooKeeperMode.STANDALONE})
        return frozenset({ZooKeeperMode.LEADER, ZooKeeperMode.FOLLOWER})

    def __repr__(self) -> str:
        member = f" id={self.server_id}" if self.server_id is not None else ""
        return f"<ZooKeeperServer{member} {self.hosts} pid={self.pid}>"

    # -- life cycle

    def start(self, *, timeout_s: float | None = 30.0) -> Self:
        """Start the JVM; wait until it serves unless ``timeout_s`` is None.

        Members of an ensemble serve only once a quorum is up: the ensemble
        starts them all with ``timeout_s=None`` and waits afterwards.
        """
        moves_left = _PORT_MOVES
        while True:
            self._spawn()
            if timeout_s is None:
                return self
            try:
                self.wait_ready(timeout_s)
            except ZooKeeperTimeoutError:
                if not (self._may_move and moves_left and self._lost_port()):
                    raise
                moves_left -= 1
                LOG.warning("port %d was taken before ZooKeeper bound it", self.port)
                self.port = free_port()
            else:
                self._may_move = False
                return self

    def _spawn(self) -> None:
        with self._lock:
            if self.is_running:
                raise ZooKeeperError(f"{self!r} is already running")
            self._write_config()
            command = self._command()
            LOG.info("starting ZooKeeper on %s in %s", self.hosts, self.base_dir)
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    command,
                    cwd=self.base_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a terminal's Ctrl-C is for us to handle
                )

    def _lost_port(self) -> bool:
        return not self.is_running and "Address already in use" in self.log_tail()

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; remove an owned directory unless ``keep``."""
        self._terminate(timeout_s)
        if self._owns_dir and not self.keep and self._base_dir is not None:
            shutil.rmtree(self._base_dir, ignore_errors=True)
            self._base_dir = None  # a later start() gets a fresh directory

    def kill(self) -> None:
        """SIGKILL, as a crash would; data directory and port are kept for a restart."""
        with self._lock:
            process = self._process
            if process is None:
                return
            if process.poll() is None:
                LOG.info("killing ZooKeeper %s", self.hosts)
                process.kill()
            process.wait()

    def restart(self, *, timeout_s: float | None = 30.0) -> Self:
        """Stop gracefully and start again: same data directory, same port."""
        self._terminate(10.0)
        return self.start(timeout_s=timeout_s)

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing (a hung server).

        Clients time out reading (after 2/3 of their session timeout) and
        report SUSPENDED. :meth:`resume` before the session timeout and they
        carry on with the same session; pause longer and whether a session
        expires, or reconnects first, is a race inside the server.
        """
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        self._signal(signal.SIGCONT)

    def _signal(self, signum: signal.Signals) -> None:
        if not self.is_running:
            raise ZooKeeperError(f"{self!r} is not running")
        assert self._process is not None
        self._process.send_signal(signum)

    def _request_stop(self) -> None:
        """Send SIGTERM without waiting (so several servers shut down at once)."""
        process = self._process
        if process is not None and process.poll() is None:
            LOG.info("stopping ZooKeeper %s", self.hosts)
            process.send_signal(signal.SIGCONT)  # a paused JVM cannot act on SIGTERM
            process.terminate()

    def _terminate(self, timeout_s: float) -> None:
        with self._lock:
            process = self._process
            if process is None:
                return
            if process.poll() is None:
                self._request_stop()
                try:
                    process.wait(timeout_s)
                except subprocess.TimeoutExpired:
                    LOG.warning("ZooKeeper %s ignored SIGTERM for %.0fs", self.hosts, timeout_s)
                    process.kill()
            process.wait()

    def __enter__(self) -> Self:
        if not self.is_running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- asking the server

    def mode(self, *, timeout_s: float = 2.0) -> ZooKeeperMode | None:
        """The role ``srvr`` reports, or None when not serving (down, paused, no quorum yet)."""
        try:
            return _parse_mode(four_letter_word(self.port, "srvr", timeout_s=timeout_s))
        except OSError:
            return None

    def is_serving(self) -> bool:
        return self.is_running and self.mode() in self.expected_modes

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Wait until the server serves clients; fail with the log's tail if it dies or is late."""
        deadline = time.monotonic() + timeout_s
        while True:
            if not self.is_running:
                raise ZooKeeperTimeoutError(
                    f"ZooKeeper {self.hosts} exited with status "
                    f"{self._process.returncode if self._process else None}\n{self.log_tail()}"
                )
            if self.mode(timeout_s=_PROBE_TIMEOUT_S) in self.expected_modes:
                return
            if time.monotonic() >= deadline:
                raise ZooKeeperTimeoutError(
                    f"ZooKeeper {self.hosts} not serving after {timeout_s:.1f}s\n{self.log_tail()}"
                )
            time.sleep(_POLL_INTERVAL_S)

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines of the server's log, for error messages."""
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError as exc:
            return f"(no log at {self.log_path}: {exc})"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last {lines} lines of {self.log_path} ---\n{tail}"

    # -- how it is run

    def _config_lines(self) -> list[str]:
        lines = [
            f"tickTime={self.tick_time_ms}",
            f"dataDir={self.data_dir}",
            f"clientPort={self.port}",
            f"clientPortAddress={HOST}",
            "admin.enableServer=false",
            "4lw.commands.whitelist=*",
            "maxClientCnxns=0",
            # Transaction log files are preallocated in blocks of this many KiB (default 64 MiB).
            "preAllocSize=4096",
            f"forceSync={'yes' if self.force_sync else 'no'}",
        ]
        if NETTY_CODEC_JAR.is_file():
            lines.append(f"serverCnxnFactory={_NETTY_FACTORY}")
        if self.min_session_timeout_ms is not None:
            lines.append(f"minSessionTimeout={self.min_session_timeout_ms}")
        if self.max_session_timeout_ms is not None:
            lines.append(f"maxSessionTimeout={self.max_session_timeout_ms}")
        if self.peers is not None:
            # Limits in ticks for followers to sync with, and keep up with, the leader.
            lines += ["initLimit=50", "syncLimit=20"]
            lines += [
                f"server.{sid}={HOST}:{quorum_port}:{election_port}"
                for sid, (quorum_port, election_port) in sorted(self.peers.items())
            ]
        return lines

    def _write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.base_dir / "tmp").mkdir(exist_ok=True)
        if self.server_id is not None:
            (self.data_dir / "myid").write_text(f"{self.server_id}\n")
        self.config_path.write_text("\n".join(self._config_lines()) + "\n")

    def _command(self) -> list[str]:
        classpath = [str(find_zookeeper_jar())]
        classpath += [str(jar) for jar in (NETTY_CODEC_JAR, SLF4J_SIMPLE_JAR) if jar.is_file()]
        command = [
            find_java(),
            f"-Xmx{self.heap_mb}m",
            "-XX:+UseSerialGC",  # few threads: machines here have 2 cores
            "-XX:TieredStopAtLevel=1",  # starts faster; a test server never gets hot
            f"-Djava.io.tmpdir={self.base_dir / 'tmp'}",
            "-Dzookeeper.jmx.log4j.disable=true",
            "-cp",
            os.pathsep.join(classpath),
            _QUORUM_MAIN if self.peers is not None else _STANDALONE_MAIN,
            str(self.config_path),
        ]
        setpriv = shutil.which("setpriv")
        if self.die_with_parent and setpriv is not None:
            command = [setpriv, "--pdeathsig", "KILL", *command]
        return command


class ZooKeeperEnsemble:
    """``size`` ZooKeeper servers on loopback forming one quorum.

    Each member is a :class:`ZooKeeperServer` in ``<base_dir>/server-<id>``;
    kill, pause and restart them one by one through :attr:`servers`.
    """

    def __init__(
        self,
        size: int = 3,
        *,
        base_dir: Path | None = None,
        tick_time_ms: int = 200,
        min_session_timeout_ms: int | None = None,
        max_session_timeout_ms: int | None = None,
        force_sync: bool = True,
        heap_mb: int = 192,
        keep: bool = False,
    ) -> None:
        if size < 2:
            raise ValueError("an ensemble has at least 2 servers; use ZooKeeperServer for one")
        self.keep = keep
        self._owns_dir = base_dir is None
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="cool-zk-ensemble-"))
        ports = free_ports(3 * size)
        ids = range(1, size + 1)
        peers = {sid: (ports[size + i], ports[2 * size + i]) for i, sid in enumerate(ids)}
        self.servers: tuple[ZooKeeperServer, ...] = tuple(
            ZooKeeperServer(
                base_dir=self.base_dir / f"server-{sid}",
                port=ports[i],
                tick_time_ms=tick_time_ms,
                min_session_timeout_ms=min_session_timeout_ms,
                max_session_timeout_ms=max_session_timeout_ms,
                force_sync=force_sync,
                heap_mb=heap_mb,
                server_id=sid,
                peers=peers,
            )
            for i, sid in enumerate(ids)
        )
        for server in self.servers:
            server.base_dir.mkdir(parents=True, exist_ok=True)

    @property
    def hosts(self) -> str:
        """The connection string naming every member."""
        return ",".join(server.hosts for server in self.servers)

    def start(self, *, timeout_s: float = 60.0) -> Self:
        """Start every member; wait until all serve and one leads."""
        try:
            for server in self.servers:
                server.start(timeout_s=None)
            self.wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout_s: float = 30.0) -> ZooKeeperServer:
        """Wait until every *running* member serves and exactly one leads; return the leader."""
        deadline = time.monotonic() + timeout_s
        while True:
            running = [server for server in self.servers if server.is_running]
            modes = {server: server.mode(timeout_s=_PROBE_TIMEOUT_S) for server in running}
            leaders = [server for server, mode in modes.items() if mode is ZooKeeperMode.LEADER]
            serving = all(mode in server.expected_modes for server, mode in modes.items())
            if serving and len(leaders) == 1:
                return leaders[0]
            if time.monotonic() >= deadline:
                raise ZooKeeperTimeoutError(
                    f"ensemble {self.hosts} not ready after {timeout_s:.1f}s: "
                    + ", ".join(f"{s.hosts}={modes.get(s) or 'down'}" for s in self.servers)
                    + "".join(f"\n{s.log_tail(15)}" for s in self.servers)
                )
            time.sleep(_POLL_INTERVAL_S)

    def leader(self, *, timeout_s: float = 30.0) -> ZooKeeperServer:
        """The leading member, once the running members agree on one."""
        return self.wait_ready(timeout_s)

    def followers(self) -> list[ZooKeeperServer]:
        return [s for s in self.servers if s.mode() is ZooKeeperMode.FOLLOWER]

    def stop(self) -> None:
        """Stop every member; remove an owned directory unless ``keep``."""
        _stop_all(self.servers)
        if self._owns_dir and not self.keep:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _stop_all(servers: Iterable[ZooKeeperServer]) -> None:
    """SIGTERM every server first, then reap each: the members shut down in parallel."""
    servers = list(servers)
    for server in servers:
        server._request_stop()
    for server in servers:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one standalone server in the foreground until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.zookeeper",
        description="Run a standalone ZooKeeper on 127.0.0.1 until SIGTERM/SIGINT; "
        "print its connection string once it serves.",
    )
    parser.add_argument("--port", type=int, default=0, help="client port (default: a free one)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="base directory, kept across runs (default: a temporary one, removed on exit)",
    )
    parser.add_argument("--tick-time-ms", type=int, default=200)
    parser.add_argument("--max-session-timeout-ms", type=int, default=60_000)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    server = ZooKeeperServer(
        base_dir=args.dir,
        port=args.port or None,
        tick_time_ms=args.tick_time_ms,
        max_session_timeout_ms=args.max_session_timeout_ms,
    )
    try:
        server.start(timeout_s=args.timeout)
        print(server.hosts, flush=True)
        while not stopping.wait(0.5):
            if not server.is_running:
                LOG.error("ZooKeeper exited unexpectedly\n%s", server.log_tail())
                return 1
        return 0
    except ZooKeeperError as exc:
        LOG.error("%s", exc)
        return 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
