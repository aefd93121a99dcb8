"""A custom image with Python, rolled out like any upgrade (after test_rolling_update.py).

The dkron role copies Dkron 4.1.2's binaries into a local image with Python (hacron/python-base,
made by scripts/setup.sh and loaded from its archive: no registry), adds jq from Debian and
humanize from PyPI, builds it once and hands it to the other nodes; the rolling update takes the
running cluster to it, the leader last. A job's Python script imports humanize, and what it
printed is in the execution record. A rerun builds nothing and restarts nothing.
"""

import glob
import json
import os
import re
import time
from pathlib import Path

from helpers import (
    AGENT, SERVERS, api, assert_leader_last, containers, failed_tasks, peer, recreated, run_playbook, update_report,
    voters, wait_for,
)

NODES = SERVERS + [AGENT]
IMAGES = Path(os.environ.get("HACRON_CACHE", Path.home() / ".cache/hacron")) / "images"
SCRIPT_DIR = "/srv/hacron-jobs"
SCRIPT = """import json, sys
import humanize  # from the image's pip requirements
print(json.dumps({"size": humanize.naturalsize(123456789), "python": sys.executable}))
"""
CUSTOM = {
    "dkron_image": "hacron/dkron:4.1.2",
    "dkron_image_archive": str(IMAGES / "dkron-4.1.2.tar"),
    "dkron_build_image": True,
    "dkron_build_base_image": "hacron/python-base:bookworm",
    "dkron_build_base_image_archive": str(IMAGES / "python-base-bookworm.tar"),
    "dkron_build_os_packages": ["jq"],
    "dkron_build_pip_requirements": ["humanize==4.11.0"],
    # This machine's outbound TLS goes through an inspecting proxy whose CA is installed here; a
    # machine without one lists none and pip reaches PyPI directly.
    "dkron_build_ca_certificates": sorted(glob.glob("/usr/local/share/ca-certificates/*.crt")),
    "dkron_extra_volumes": ["%s:%s:ro" % (SCRIPT_DIR, SCRIPT_DIR)],
}
STATE = {}


def custom_run(playbook, tmp_path):
    extra = tmp_path / "custom-image.json"
    extra.write_text(json.dumps(CUSTOM))
    return run_playbook(playbook, "-e", "@%s" % extra)


def running_images():
    return {name: peer(name).check_output("docker inspect --format '{{.Config.Image}}' dkron") for name in NODES}


def task_hosts(stdout, task, status):
    """The hosts that report ``status`` (changed, ok, skipping) for every run of ``task``."""
    hosts = set()
    for block in re.findall(r"TASK \[[^\]]*: %s\][^\n]*\n(.*?)(?=\nTASK |\nPLAY |\Z)" % re.escape(task), stdout, re.S):
        hosts |= set(re.findall(r"^%s: \[([^\]\s]+)" % status, block, re.M))
    return hosts


def recap_changes(stdout):
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", stdout, re.M)}


def test_the_custom_image_rolls_out_with_the_leader_last(tmp_path):
    for node in NODES:
        peer(node).check_output("mkdir -p %s && printf '%%s' %s > %s/report.py", SCRIPT_DIR, SCRIPT, SCRIPT_DIR)
    started = time.monotonic()
    run = custom_run("playbooks/rolling_update.yml", tmp_path)
    print("\nbuild, copy and rolling update to the custom image: %.1f s" % (time.monotonic() - started))

    assert run.returncode == 0, failed_tasks(run.stdout)
    # Built once, on the first server; the others loaded it from the archive.
    assert task_hosts(run.stdout, "Build the image", "changed") == {SERVERS[0]}, run.stdout[-4000:]
    assert task_hosts(run.stdout, "Load the image from the archive", "changed") >= set(NODES) - {SERVERS[0]}
    order, leaders = update_report(run.stdout)
    assert sorted(order) == sorted(NODES) and order[0] == AGENT, order
    assert_leader_last(order, leaders)
    images = running_images()
    assert len(set(images.values())) == 1, images
    assert re.fullmatch(r"hacron/dkron-custom:4\.1\.2-[0-9a-f]{12}", images[AGENT]), images
    assert voters(SERVERS[0]) == SERVERS
    STATE["image"] = images[AGENT]


def test_a_job_s_python_script_imports_the_pip_package():
    job = {"name": "python-report", "schedule": "@manually", "tags": {"dc": "dc1:1"}, "executor": "shell",
           "executor_config": {"shell": "true",
                               "command": "python3 %s/report.py | jq -r '\"\\(.size) from \\(.python)\"'" % SCRIPT_DIR}}
    status, body = api(SERVERS[0], "/v1/jobs", "POST", job)
    assert status == 201, body
    status, body = api(SERVERS[0], "/v1/jobs/python-report", "POST")  # run it now
    assert status == 200, body

    def finished():
        status, executions = api(SERVERS[0], "/v1/jobs/python-report/executions")
        done = [e for e in executions if e.get("finished_at") and not e["finished_at"].startswith("0001")] \
            if status == 200 else []
        return done
    executions = wait_for(finished, timeout=60, interval=2, what="an execution of python-report")
    print("\nexecution on %s: %r" % (executions[0]["node_name"], executions[0]["output"]))
    assert executions[0]["success"] is True, executions[0]
    assert executions[0]["output"].strip() == "123.5 MB from /opt/dkron-python/bin/python3"


def test_a_rerun_builds_nothing_and_restarts_nothing(tmp_path):
    # site.yml, which goes through the same update as playbooks/rolling_update.yml (whose own rerun
    # is test_rolling_update.py's) and through every other role.
    before = containers()
    run = custom_run("site.yml", tmp_path)
    assert run.returncode == 0, failed_tasks(run.stdout)
    assert not task_hosts(run.stdout, "Build the image", "changed")
    changes = recap_changes(run.stdout)
    assert set(NODES) <= set(changes) and not any(changes.values()), changes
    assert "Nothing to update" in run.stdout
    assert recreated(before, containers()) == []
    assert set(running_images().values()) == {STATE["image"]}
