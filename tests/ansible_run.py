"""Runs the collection's modules and playbooks the way a user does, from the checkout's root."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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


def _first_result(completed):
    """The first task's result on localhost, from the ansible.posix.json callback's output."""
    try:
        output = json.loads(completed.stdout)
    except ValueError:
        raise AssertionError("ansible printed no JSON (rc %d):\n%s\n%s" % (completed.returncode, completed.stdout, completed.stderr))
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


def run_module(module, args="", env=None, check=False):
    """``ansible localhost -m MODULE -a ARGS``; returns the module's result."""
    command = [str(BIN / "ansible"), "localhost", "-m", module, "-a", args] + (["--check"] if check else [])
    return _first_result(_run(command, dict(JSON_OUTPUT, **(env or {})), timeout=120))


def run_playbook_json(playbook, env=None):
    """``ansible-playbook PLAYBOOK`` on localhost; returns its first task's result."""
    command = [str(BIN / "ansible-playbook"), str(playbook)]
    return _first_result(_run(command, dict(JSON_OUTPUT, **(env or {})), timeout=300))


def run_playbook(playbook, inventory, timeout=300, arguments=()):
    """``ansible-playbook PLAYBOOK -i INVENTORY [ARGUMENTS]``; the completed process."""
    return _run([str(BIN / "ansible-playbook"), str(playbook), "-i", str(inventory), *arguments], timeout=timeout)
