"""A server that never comes up: site.yml's update stops at the health gate after that node, within
its bound, and names it. Runs after the others."""

import re
import time

import pytest

from helpers import SERVERS, leader_name, run_site, voters, wait_for

BROKEN = SERVERS[2]


# The wait does not depend on the network mode or the Debian release: run once.
@pytest.mark.scenario("default")
def test_a_server_that_never_comes_up_ends_the_wait_naming_it(tmp_path):
    # Dkron exits at start when raft-multiplier is out of 1..10; the container's restart policy
    # brings it back only to exit again, so the server never answers.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "all:\n  vars:\n    dkron_wait_timeout: 30\n"
        "  hosts:\n    %s:\n      dkron_extra_config: {raft-multiplier: 99}\n" % BROKEN
    )
    started = time.monotonic()
    # The dkron role alone: the gate is its own, and the other roles' reruns would only add minutes.
    failed = run_site(broken, tags=["dkron"])
    took = time.monotonic() - started
    print("site.yml with %s broken failed after %.0f s" % (BROKEN, took))
    assert failed.returncode != 0
    # The gate states the time it waited: its 30 s bound, or a little more when its last check
    # (it runs `dkron raft list-peers`) ends past it on a loaded machine.
    waited = re.search(r"after updating %s: the cluster is not whole after (\d+) s" % re.escape(BROKEN), failed.stdout)
    assert waited and 30 <= int(waited.group(1)) <= took, failed.stdout[-3000:]
    # The cluster kept its quorum meanwhile: the two others still agree on a leader.
    assert leader_name(SERVERS[0]) in SERVERS[:2]

    repaired = run_site(tags=["dkron"])
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    wait_for(lambda: voters() == SERVERS, timeout=120, what="the repaired server back as a voter")
