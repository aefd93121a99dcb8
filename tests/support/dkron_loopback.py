"""A real Dkron cluster as local processes on loopback, for integration tests.

Each server gets its own serf, gRPC/Raft and HTTP ports on 127.0.0.1 and its own data dir, a
config file rendered like the one the role writes, and a log file. ``start()`` waits (bounded)
until every server answers ``/v1/leader`` and sees every member alive; ``stop()`` always ends
every process it started (SIGTERM, then SIGKILL after a bound).
"""

import os
import random
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from ansible_collections.hacron.dkron.plugins.module_utils.dkron_rolling import parse_raft_peers

TARGET_VERSION = "4.1.2"


def dkron_binary(version=TARGET_VERSION):
    """The dkron binary for ``version``: what scripts/setup.sh provided.

    $HACRON_DKRON_BIN replaces the target version's binary only: the tests of other versions
    (the version skew) need those very versions.
    """
    override = os.environ.get("HACRON_DKRON_BIN")
    if override and version == TARGET_VERSION:
        return Path(override)
    cache = Path(os.environ.get("HACRON_CACHE", Path.home() / ".cache" / "hacron"))
    return cache / "dkron" / version / "dkron"


def _ephemeral_range_start():
    """The first port the kernel hands out to outgoing connections (ip_local_port_range)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free_port():
    """A port free for both TCP and UDP on loopback (serf gossips on both), below the ephemeral
    range: a server may start a minute after its ports are picked, and a port of that range can be
    taken meanwhile by any outgoing connection (ci39: "bind: address already in use" on 60851)."""
    high = _ephemeral_range_start()
    for _attempt in range(200):
        port = random.randrange(max(1024, high - 20000), high)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
                    socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                tcp.bind(("127.0.0.1", port))
                udp.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free loopback port found")


class LoopbackServer:
    def __init__(self, name, workdir, binary):
        self.name = name
        self.binary = binary
        self.workdir = Path(workdir)
        self.data_dir = self.workdir / "data"
        self.config_path = self.workdir / "dkron.yml"
        self.log_path = self.workdir / "dkron.log"
        self.serf_port = _free_port()
        self.rpc_port = _free_port()
        self.http_port = _free_port()
        self.process = None
        self._log = None

    @property
    def serf_addr(self):
        return "127.0.0.1:%d" % self.serf_port

    @property
    def api_url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def write_config(self, join, bootstrap_expect):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "server: true",
            "node-name: %s" % self.name,
            "data-dir: %s" % self.data_dir,
            "bind-addr: %s" % self.serf_addr,
            "advertise-addr: %s" % self.serf_addr,
            "http-addr: 127.0.0.1:%d" % self.http_port,
            "rpc-port: %d" % self.rpc_port,
            "advertise-rpc-port: %d" % self.rpc_port,
            "bootstrap-expect: %d" % bootstrap_expect,
            "disable-usage-stats: true",
            # As the dkron role configures the servers (dkron_enable_prometheus).
            "enable-prometheus: true",
            "log-level: info",
            "tags:",
            "  node: %s" % self.name,
        ]
        if join:
            lines.append("retry-join:")
            lines.extend('  - "%s"' % addr for addr in join)
            lines.append("retry-interval: 1s")
        self.config_path.write_text("\n".join(lines) + "\n")

    def start(self):
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(self.binary), "agent", "--config", str(self.config_path)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: a stray child cannot outlive stop()
        )

    def kill(self, timeout=10):
        """SIGKILL: a host lost. Its peers mark it failed; the SIGTERM of stop() may leave the
        cluster cleanly instead (left), which the leader then removes from Raft on its own."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=timeout)

    def stop(self, timeout=15):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class LoopbackCluster:
    """``size`` Dkron servers on loopback forming one cluster, all running ``binary``.

    ``binaries``, one per server, gives each server its own binary instead (a mixed-version
    cluster); the first one bootstraps. ``binary`` is then the first server's.
    """

    def __init__(self, workdir, size=3, binary=None, binaries=None):
        binaries = [Path(path) for path in binaries] if binaries else [Path(binary or dkron_binary())] * size
        self.binary = binaries[0]
        self.servers = [
            LoopbackServer("server-%d" % (index + 1), Path(workdir) / ("server-%d" % (index + 1)), server_binary)
            for index, server_binary in enumerate(binaries)
        ]

    def start(self, timeout=90):
        """Bootstrap the first server alone, then join the others to it (the sequence the roles use).

        Starting every server at once with ``bootstrap-expect: N`` is racy in Dkron: bootstrap runs
        only on serf member-join events, and joins that happen before a server listens for events
        reach it coalesced into member-update events, so no server ever bootstraps.

        Joined servers become Raft voters only at the leader's periodic reconcile, every 60 s:
        in Dkron 4.1.x the channel that should pass serf member events to the leader loop is never
        created (``Agent.reconcileCh`` is nil), so events are dropped. A three-server start
        therefore takes about a minute; the fixture is session-scoped for that reason.
        """
        for server in self.servers:
            if not os.access(server.binary, os.X_OK):
                raise FileNotFoundError("no executable dkron binary at %s" % server.binary)
        first, others = self.servers[0], self.servers[1:]
        first.write_config(join=[], bootstrap_expect=1)
        first.start()
        try:
            self.wait_ready(timeout, servers=[first])
            for server in others:
                server.write_config(join=[first.serf_addr], bootstrap_expect=0)
                server.start()
            self.wait_ready(timeout)
        except Exception:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout, servers=None):
        """Every server answers /v1/leader with one leader, sees all alive, and all are voters."""
        servers = servers or self.servers
        deadline = time.monotonic() + timeout
        problem = "not checked yet"
        while time.monotonic() < deadline:
            dead = [server.name for server in servers if server.process.poll() is not None]
            if dead:
                raise RuntimeError("dkron exited early on %s:\n%s" % (dead, self._logs()))
            problem = self._readiness_problem(servers)
            if problem is None:
                return
            time.sleep(0.3)
        raise TimeoutError("cluster not ready after %d s (%s):\n%s" % (timeout, problem, self._logs()))

    def _readiness_problem(self, servers):
        leaders = set()
        for server in servers:
            try:
                leader = requests.get(server.api_url + "/v1/leader", timeout=2)
                members = requests.get(server.api_url + "/v1/members", timeout=2)
            except requests.RequestException as exc:
                return "%s: %s" % (server.name, exc.__class__.__name__)
            if leader.status_code != 200 or members.status_code != 200:
                return "%s: /v1/leader %d" % (server.name, leader.status_code)
            leaders.add(leader.json().get("Name"))
            alive = [m for m in members.json() if m.get("statusText") == "alive"]
            if len(alive) != len(servers):
                return "%s sees %d alive members" % (server.name, len(alive))
        if len(leaders) != 1:
            return "servers disagree on the leader: %s" % sorted(leaders)
        voters = self.voters(servers[0])
        if sorted(voters) != sorted(server.name for server in servers):
            return "raft voters are %s" % sorted(voters)
        return None

    def voters(self, server):
        """Raft voters' node names as ``dkron raft list-peers`` reports them from ``server``.

        Asked with ``server``'s own binary: the gRPC service names changed between versions.
        """
        listing = subprocess.run(
            [str(server.binary), "raft", "list-peers", "--rpc-addr", "127.0.0.1:%d" % server.rpc_port],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return parse_raft_peers(listing.stdout)

    def leader(self, timeout=20.0):
        """The server that currently leads, waited for (bounded) while an election runs: on a busy
        machine a starved server can miss heartbeats and the cluster elects again (CI run 7 found
        no leader at one instant, between two tests)."""
        deadline = time.monotonic() + timeout
        while True:
            answers = {}
            for server in self.servers:
                try:
                    status = requests.get(server.api_url + "/v1/isleader", timeout=5).status_code
                except requests.RequestException as exc:
                    status = type(exc).__name__
                if status == 200:
                    return server
                answers[server.name] = status
            if time.monotonic() >= deadline:
                raise RuntimeError("no server says it leads after %d s: %s" % (timeout, answers))
            time.sleep(0.5)

    def followers(self):
        leader = self.leader()
        return [server for server in self.servers if server is not leader]

    def stop(self):
        for server in self.servers:
            server.stop()

    def _logs(self):
        return "\n".join("--- %s ---\n%s" % (server.name, server.log_tail()) for server in self.servers)
