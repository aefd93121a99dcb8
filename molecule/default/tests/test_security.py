"""The cluster is closed by default: ports for the cluster's hosts only, the API and UI behind TLS and
basic auth, Dkron's own listener on loopback, the gossip key readable by root alone."""

import datetime
import json
import os
import subprocess

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpers import (
    ADDRESSES, AGENT, NET, PREFIX, PROBE, ROOT, SERVERS, network_mode, peer, probe_arguments, probe_from_host,
    run_playbook,
)

OUTSIDER = NET + ".99"  # on the scenario's network, neither a cluster host nor on the allowlist
NETWORK = "hacron-%s" % PREFIX
USER, PASSWORD = "molecule", "molecule-lab-password"
SWARM_TCP, DKRON_TCP, API_TCP = (2377, 7946), (8946, 6868), (443, 8080)
UDP_PORTS = (7946, 4789, 8946)


def probe_from_outsider(address, tcp_ports, udp_ports=()):
    """Probe from a new container at OUTSIDER, built from the lab hosts' own image."""
    image = "hacron/lab-host:%s" % os.environ.get("HACRON_LAB_SUITE", "bookworm")
    run = subprocess.run(
        ["docker", "run", "--rm", "--network", NETWORK, "--ip", OUTSIDER, "--entrypoint", "python3", image,
         "-c", PROBE, *probe_arguments(address, tcp_ports, udp_ports)],
        capture_output=True, text=True, timeout=120, check=True)
    return {int(port): answer for port, answer in json.loads(run.stdout).items()}


def udp_drops(name):
    """Packets the firewall of ``name`` dropped on the cluster's UDP ports (its counter)."""
    rules = json.loads(peer(name).check_output("nft -j list chain inet hacron input"))["nftables"]
    for entry in rules:
        rule = entry.get("rule")
        if rule and '"udp"' in json.dumps(rule["expr"][0]) and "cluster_hosts" in json.dumps(rule["expr"]):
            return next(e["counter"]["packets"] for e in rule["expr"] if "counter" in e)
    raise AssertionError("no counted UDP drop rule in %s" % rules)


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory):
    """The private CA's certificate, as the api_proxy role put it on every host."""
    path = tmp_path_factory.mktemp("ca") / "ca.crt"
    path.write_text(peer(SERVERS[0]).file("/etc/hacron/tls/ca.crt").content_string)
    return str(path)


@pytest.fixture(scope="module")
def wrong_ca_file(tmp_path_factory):
    """A CA that signed nothing of the cluster's, made here."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the cluster's CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path_factory.mktemp("wrong-ca") / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def proxy_url(server, path):
    return "https://%s%s" % (ADDRESSES[server], path)


# --- the firewall -----------------------------------------------------------------------------

def test_an_outsider_reaches_no_port_of_the_cluster():
    before = {name: udp_drops(name) for name in (SERVERS[0], AGENT)}
    for name in (SERVERS[0], AGENT):
        answers = probe_from_outsider(ADDRESSES[name], SWARM_TCP + DKRON_TCP + API_TCP + (9,), UDP_PORTS)
        # Port 9 has no rule and no listener: refused, so the outsider does reach the host itself.
        assert answers.pop(9) == "refused", answers
        assert set(answers.values()) == {"no answer"}, (name, answers)
    for name, count in before.items():
        assert udp_drops(name) >= count + len(UDP_PORTS), "%s dropped no UDP datagram of the outsider" % name


def test_a_cluster_host_reaches_the_cluster_ports():
    before = udp_drops(SERVERS[0])
    answers = probe_from_host(SERVERS[1], ADDRESSES[SERVERS[0]], SWARM_TCP + DKRON_TCP + API_TCP, UDP_PORTS)
    expected = {2377: "open", 7946: "open", 443: "open",
                # Dkron's own HTTP listener is on loopback only: nothing listens on the address.
                8080: "refused"}
    # In overlay mode serf and gRPC listen in the containers' overlay network, not on the host.
    expected.update({8946: "open", 6868: "open"} if network_mode() == "host" else {8946: "refused", 6868: "refused"})
    assert answers == expected
    assert udp_drops(SERVERS[0]) == before, "a cluster host's UDP was dropped"


def test_the_admin_allowlist_reaches_the_proxy_and_nothing_else():
    # These tests run on the controller (the network's gateway), which the scenario allowlists as an admin.
    answers = json.loads(subprocess.run(
        ["python3", "-c", PROBE, *probe_arguments(ADDRESSES[SERVERS[0]], SWARM_TCP + DKRON_TCP + API_TCP)],
        capture_output=True, text=True, timeout=120, check=True).stdout)
    assert answers == {"2377": "no answer", "7946": "no answer", "8946": "no answer", "6868": "no answer",
                       "443": "open", "8080": "refused"}


def test_dkron_answers_on_loopback_for_the_proxy():
    server = peer(SERVERS[0])
    assert server.check_output("python3 -c %s", "import urllib.request as u; "
                               "print(u.urlopen('http://127.0.0.1:8080/v1/leader', timeout=5).status)") == "200"
    http_addr = yaml.safe_load(server.file("/etc/dkron/dkron.yml").content_string)["http-addr"]
    assert http_addr == (":8080" if network_mode() == "overlay" else "127.0.0.1:8080")


# --- the proxy --------------------------------------------------------------------------------

def test_no_credentials_or_wrong_ones_get_401(ca_file):
    for server in SERVERS:
        answer = requests.get(proxy_url(server, "/v1/members"), verify=ca_file, timeout=10)
        assert answer.status_code == 401, (server, answer.status_code)
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
    wrong = requests.get(proxy_url(SERVERS[0], "/v1/members"), verify=ca_file, auth=(USER, "not-the-password"),
                         timeout=10)
    assert wrong.status_code == 401


def test_the_right_credentials_reach_the_api_and_the_ui(ca_file):
    # verify with each request: a session's verify loses to REQUESTS_CA_BUNDLE in the environment.
    with requests.Session() as session:
        session.auth = (USER, PASSWORD)
        for server in SERVERS:
            members = session.get(proxy_url(server, "/v1/members"), verify=ca_file, timeout=10)
            assert members.status_code == 200, (server, members.text)
            assert sorted(m["Name"] for m in members.json()) == sorted(SERVERS + [AGENT])
        root = session.get(proxy_url(SERVERS[0], "/"), verify=ca_file, allow_redirects=False, timeout=10)
        assert root.status_code == 302 and root.headers["Location"].endswith("/ui/")
        ui = session.get(proxy_url(SERVERS[0], "/ui/"), verify=ca_file, timeout=10)
        assert ui.status_code == 200 and "../v1" in ui.text  # the UI calls the API relative to itself
        assert "Strict-Transport-Security" in ui.headers


def test_a_wrong_ca_fails_the_handshake(wrong_ca_file):
    for verify in (wrong_ca_file, True):  # a CA of our own making, and the system's trust store
        with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
            requests.get(proxy_url(SERVERS[0], "/v1/members"), verify=verify, auth=(USER, PASSWORD), timeout=10)


def test_the_proxy_speaks_tls_1_2_and_up_only(ca_file):
    import ssl
    import socket
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection((ADDRESSES[SERVERS[0]], 443), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            context.wrap_socket(raw, server_hostname=ADDRESSES[SERVERS[0]])


def _module(module, arguments):
    """One module of the collection, ad hoc from the controller, as a user would call it."""
    run = subprocess.run(
        ["ansible", "localhost", "-m", "hacron.dkron.%s" % module, "-a", json.dumps(arguments)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                 ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                 ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_LOCALHOST_WARNING="0"))
    result = json.loads(run.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return run.returncode, result


def test_the_modules_work_through_the_proxy_with_credentials(ca_file):
    connection = {"api_url": proxy_url(SERVERS[1], ""), "url_username": USER, "url_password": PASSWORD,
                  "ca_path": ca_file}
    job = dict(connection, name="through-the-proxy", schedule="@manually", command="echo proxied")
    try:
        rc, created = _module("dkron_job", job)
        assert rc == 0 and created["changed"], created
        rc, again = _module("dkron_job", job)
        assert rc == 0 and not again["changed"], again
        rc, cluster = _module("dkron_cluster_info", connection)
        assert rc == 0 and len(cluster["members"]) == 4, cluster
    finally:
        rc, removed = _module("dkron_job", dict(job, state="absent"))
        assert rc == 0, removed

    rc, refused = _module("dkron_cluster_info", dict(connection, url_password="not-the-password"))
    assert rc != 0 and "401" in refused["msg"], refused
    assert "not-the-password" not in json.dumps(refused)


def test_passwords_are_stored_hashed_and_readable_by_nginx_only():
    htpasswd = peer(SERVERS[0]).file("/etc/nginx/hacron-dkron.htpasswd")
    assert (htpasswd.user, htpasswd.group, htpasswd.mode) == ("root", "www-data", 0o640)
    entries = [line for line in htpasswd.content_string.splitlines() if line and not line.startswith("#")]
    assert len(entries) == 1, entries
    name, stored = entries[0].split(":", 1)
    assert name == USER and stored.startswith("$6$") and PASSWORD not in stored  # sha512-crypt


# --- keys and certificates --------------------------------------------------------------------

@pytest.mark.parametrize("name", SERVERS + [AGENT])
def test_the_gossip_key_is_the_cluster_s_and_only_root_reads_it(name):
    config = peer(name).file("/etc/dkron/dkron.yml")
    assert (config.user, config.group, config.mode) == ("root", "root", 0o600)
    assert yaml.safe_load(config.content_string)["encrypt"] == \
        yaml.safe_load(peer(SERVERS[0]).file("/etc/dkron/dkron.yml").content_string)["encrypt"]


@pytest.mark.parametrize("name", SERVERS)
def test_every_server_keeps_the_one_private_ca_and_its_own_key(name):
    host = peer(name)
    for path in ("/etc/hacron/tls/ca/ca.key", "/etc/hacron/tls/server.key"):
        key = host.file(path)
        assert (key.user, key.mode) == ("root", 0o600), path
    assert host.file("/etc/hacron/tls/ca/ca.crt").content_string == \
        peer(SERVERS[0]).file("/etc/hacron/tls/ca/ca.crt").content_string
    names = host.check_output("openssl x509 -in /etc/hacron/tls/server.crt -noout -ext subjectAltName")
    assert "IP Address:%s" % ADDRESSES[name] in names and "DNS:%s" % name in names


def test_the_agent_has_the_ca_certificate_for_its_clients():
    assert peer(AGENT).file("/etc/hacron/tls/ca.crt").content_string == \
        peer(SERVERS[0]).file("/etc/hacron/tls/ca/ca.crt").content_string
    assert not peer(AGENT).file("/etc/hacron/tls/ca/ca.key").exists


# --- Swarm overlay encryption -----------------------------------------------------------------

# The swarm role's check, the same whatever the network mode: run once, where overlays are used.
@pytest.mark.scenario("overlay")
def test_an_encrypted_overlay_is_made_only_where_the_kernel_can_encrypt(tmp_path):
    """The swarm role checks for IPsec (ESP) before it creates an encrypted overlay network."""
    server = peer(SERVERS[0])
    esp = server.run("unshare -n ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x100 mode transport "
                     "enc 'cbc(aes)' 0x%s auth 'hmac(sha256)' 0x%s" % ("11" * 16, "11" * 32))
    playbook = tmp_path / "encrypted.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "An encrypted overlay network", "hosts": "dkron", "become": True, "gather_facts": True,
        "roles": [{"role": "hacron.dkron.swarm",
                   "swarm_overlay_networks": [{"name": "hacron-encrypted-probe", "subnet": "10.232.0.0/24"}]}],
    }]))
    run = run_playbook(str(playbook))
    made = server.run("docker network inspect hacron-encrypted-probe --format '{{json .Options}}'")
    try:
        if esp.rc == 0:
            assert run.returncode == 0, run.stdout[-3000:]
            assert "encrypted" in json.loads(made.stdout)
        else:
            # This machine's kernel: no ESP. The role says so, names the host, and creates nothing.
            assert run.returncode != 0
            assert "cannot load the kernel's IPsec module esp4" in run.stdout, run.stdout[-3000:]
            assert "%s cannot load" % SERVERS[0] in run.stdout
            assert made.rc != 0, "the network was created anyway"
    finally:
        server.run("docker network rm hacron-encrypted-probe")


# --- the exporter -------------------------------------------------------------------------------

def _metric(text, line_start):
    """The value of the one sample whose line starts with ``line_start`` (name and labels)."""
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start + " ")]
    assert len(values) == 1, (line_start, values)
    return values[0]


def test_the_exporter_is_published_by_the_proxy_only(ca_file):
    for server in SERVERS:
        anonymous = requests.get(proxy_url(server, "/exporter/metrics"), verify=ca_file, timeout=10)
        assert anonymous.status_code == 401
        metrics = requests.get(proxy_url(server, "/exporter/metrics"), verify=ca_file, auth=(USER, PASSWORD),
                               timeout=30)
        assert metrics.status_code == 200, (server, metrics.text[:300])
        text = metrics.text
        assert _metric(text, "dkron_exporter_api_up") == 1
        assert _metric(text, "dkron_leader_answers") == 1
        assert _metric(text, "dkron_raft_voters") == 3
        assert _metric(text, "dkron_raft_expected_voters") == 3
        for name in SERVERS:
            assert _metric(text, 'dkron_raft_expected_voter{server="%s"}' % name) == 1
        assert _metric(text, 'dkron_members{status="alive"}') == 4
        # Loopback only: the exporter's own port is not reachable from the controller.
        listening = peer(server).check_output("ss -Htln sport = :9932")
        assert "127.0.0.1:9932" in listening and "0.0.0.0:9932" not in listening, listening
    answers = json.loads(subprocess.run(
        ["python3", "-c", PROBE, *probe_arguments(ADDRESSES[SERVERS[0]], (9932,))],
        capture_output=True, text=True, timeout=120, check=True).stdout)
    assert answers["9932"] in ("refused", "no answer"), answers
