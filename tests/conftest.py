"""Shared pytest set-up: the collection on sys.path and the loopback Dkron fixtures."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# scripts/setup.sh links the checkout in as ansible_collections/hacron/dkron under .cache/collections,
# so tests import the collection's code by the name Ansible gives it.
sys.path.insert(0, str(ROOT / ".cache" / "collections"))
sys.path.insert(0, str(ROOT / "tests"))

from dkron_loopback import LoopbackCluster, dkron_binary  # noqa: E402


def _require_dkron():
    binary = dkron_binary()
    if os.access(binary, os.X_OK):
        return binary
    reason = (
        "no Dkron binary at %s: scripts/setup.sh could not build it here "
        "(see its summary); set HACRON_DKRON_BIN or DKRON_BINARY_DIR" % binary
    )
    if os.environ.get("HACRON_REQUIRE_DKRON") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _cluster(tmp_path_factory, size):
    binary = _require_dkron()
    cluster = LoopbackCluster(tmp_path_factory.mktemp("dkron-%d" % size), size=size, binary=binary)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def dkron_single(tmp_path_factory):
    """One real Dkron server on loopback, bootstrapped alone."""
    yield from _cluster(tmp_path_factory, 1)


@pytest.fixture(scope="session")
def dkron_cluster(tmp_path_factory):
    """Three real Dkron servers on loopback forming one cluster with one leader."""
    yield from _cluster(tmp_path_factory, 3)
