"""Runs the collection's modules the way a user does, through the `ansible` command."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_module(module, args="", env=None, check=False):
    """``ansible localhost -m MODULE -a ARGS`` from the checkout's root; returns the module's result."""
    environment = dict(os.environ)
    environment.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING="0",
    )
    environment.update(env or {})
    command = [str(Path(sys.executable).parent / "ansible"), "localhost", "-m", module, "-a", args]
    if check:
        command.append("--check")
    completed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False)
    try:
        output = json.loads(completed.stdout)
    except ValueError:
        raise AssertionError("ansible printed no JSON (rc %d):\n%s\n%s" % (completed.returncode, completed.stdout, completed.stderr))
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


def run_playbook(playbook, inventory, timeout=300):
    """``ansible-playbook PLAYBOOK -i INVENTORY`` from the checkout's root; the completed process."""
    environment = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook), "-i", str(inventory)]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout, check=False)
