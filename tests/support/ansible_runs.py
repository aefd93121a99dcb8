"""Runs the collection's modules and playbooks the way a user does, from the checkout's root."""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(command, extra_env=None, timeout=300):
    environment = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    environment.update(extra_env or {})
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout, check=False)


JSON_OUTPUT = dict(
    ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
    ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
    ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    ANSIBLE_LOCALHOST_WARNING="0",
)


def _task_results(completed):
    """Each task's result on localhost, in order, from the ansible.posix.json callback's output."""
    try:
        tasks = json.loads(completed.stdout)["plays"][0]["tasks"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible printed no results (rc %d):\n%s\n%s" % (completed.returncode, completed.stdout, completed.stderr))
    return [task["hosts"]["localhost"] for task in tasks]


def _first_result(completed):
    """The first task's result on localhost."""
    return _task_results(completed)[0]


def run_module(module, args="", env=None, check=False):
    """``ansible localhost -m MODULE -a ARGS``; returns the module's result."""
    command = [str(BIN / "ansible"), "localhost", "-m", module, "-a", args] + (["--check"] if check else [])
    return _first_result(_run(command, dict(JSON_OUTPUT, **(env or {})), timeout=120))


def run_playbook_json(playbook, env=None):
    """``ansible-playbook PLAYBOOK`` on localhost; returns its first task's result."""
    command = [str(BIN / "ansible-playbook"), str(playbook)]
    return _first_result(_run(command, dict(JSON_OUTPUT, **(env or {})), timeout=300))


def run_tasks(module, argument_sets, env=None, check=False):
    """One ansible-playbook run on localhost with one ``module`` task per set of arguments; returns
    each task's result, in order. Many calls for the price of one Ansible start."""
    playbook = [{
        "name": "%d calls of %s" % (len(argument_sets), module),
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{"name": "call %d" % index, module: arguments, "ignore_errors": True}
                  for index, arguments in enumerate(argument_sets)],
    }]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="tasks-") as handle:
        json.dump(playbook, handle)  # JSON is YAML
        handle.flush()
        command = [str(BIN / "ansible-playbook"), handle.name] + (["--check"] if check else [])
        completed = _run(command, dict(JSON_OUTPUT, **(env or {})), timeout=300)
    results = _task_results(completed)
    assert len(results) == len(argument_sets), completed.stdout
    return results


def run_playbook(playbook, inventory, timeout=300, arguments=(), env=None):
    """``ansible-playbook PLAYBOOK -i INVENTORY [ARGUMENTS]``, with ``env`` added to the
    environment; the completed process."""
    return _run([str(BIN / "ansible-playbook"), str(playbook), "-i", str(inventory), *arguments], env, timeout=timeout)


def update_report(stdout, node_pattern):
    """The dkron role's "Updated in this order" report in a playbook's output: the nodes (names
    matching ``node_pattern``) in the order they were taken and, for a rolling update, the leader
    when each step was planned (an empty list after a full stop). The YAML result format may fold
    the message over lines: it is read up to the blank line."""
    assert "Updated in this order:" in stdout, "no update report in the run:\n" + stdout[-3000:]
    text = " ".join(stdout.split("Updated in this order:", 1)[1].split("\n\n", 1)[0].split())
    taken, _separator, leaders = text.partition("; the leader at each step:")
    return re.findall(node_pattern, taken), re.findall(node_pattern, leaders)
