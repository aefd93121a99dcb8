"""Shared pytest set-up: the loopback Dkron fixtures. pytest.ini puts the collection (by the name
Ansible gives it) and tests/ on the import path."""

import os

import pytest

from support.dkron_loopback import TARGET_VERSION, LoopbackCluster, dkron_binary


def _require_dkron(version=TARGET_VERSION):
    """The dkron binary for ``version``; the test skips without it, or fails under HACRON_REQUIRE_DKRON=1."""
    binary = dkron_binary(version)
    if os.access(binary, os.X_OK):
        return binary
    reason = (
        "no Dkron %s binary at %s: scripts/setup.sh could not build it here "
        "(see its summary); set %s"
        % (version, binary, "HACRON_DKRON_BIN or DKRON_BINARY_DIR" if version == TARGET_VERSION else "DKRON_BINARY_DIR")
    )
    if os.environ.get("HACRON_REQUIRE_DKRON") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _cluster(tmp_path_factory, versions):
    """A started LoopbackCluster, one server per version in ``versions`` (the first bootstraps)."""
    binaries = [_require_dkron(version) for version in versions]
    cluster = LoopbackCluster(tmp_path_factory.mktemp("dkron-%d" % len(versions)), binaries=binaries)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def dkron_single(tmp_path_factory):
    """One real Dkron server on loopback, bootstrapped alone."""
    yield from _cluster(tmp_path_factory, [TARGET_VERSION])


@pytest.fixture(scope="session")
def dkron_cluster(tmp_path_factory):
    """Three real Dkron servers on loopback forming one cluster with one leader."""
    yield from _cluster(tmp_path_factory, [TARGET_VERSION] * 3)


@pytest.fixture(scope="module")
def dkron_cluster_to_shrink(tmp_path_factory):
    """Three real Dkron servers on loopback of which the tests may stop and remove some; stopped
    after the module."""
    yield from _cluster(tmp_path_factory, [TARGET_VERSION] * 3)


@pytest.fixture(scope="module")
def dkron_cluster_to_lose_its_leader(tmp_path_factory):
    """Three real Dkron servers on loopback whose leader a test kills for good; stopped after the module."""
    yield from _cluster(tmp_path_factory, [TARGET_VERSION] * 3)


@pytest.fixture(scope="module")
def dkron_single_to_restart(tmp_path_factory):
    """One real Dkron server on loopback, bootstrapped alone, that a test stops and starts again;
    stopped after the module."""
    yield from _cluster(tmp_path_factory, [TARGET_VERSION])


@pytest.fixture(scope="module")
def dkron_skewed(tmp_path_factory):
    """server-1 on Dkron 4.0.8 (it bootstraps, so it leads) and server-2 on 4.0.9 joined to it.

    The two sides of Dkron's gRPC service rename in 4.0.9, in one cluster; stopped after the module.
    """
    yield from _cluster(tmp_path_factory, ["4.0.8", "4.0.9"])
