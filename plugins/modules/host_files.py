#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_files
short_description: Write a role's files on a host in one module run
version_added: 0.2.0
description:
  - Creates the given directories, then writes each file whose content, mode, owner or group
    differs from what is asked, and removes those asked to be absent; files already as asked are
    left alone.
  - One module run for what would take two per file with M(ansible.builtin.template) or
    M(ansible.builtin.copy) (a remote C(stat), then C(file) or C(copy)). Each module run costs a
    host about 0.2 CPU-seconds however little it does, so a no-change converge is mostly these runs.
  - The roles render their templates on the controller with the C(ansible.builtin.template) lookup
    and read their static files with the C(ansible.builtin.file) lookup (O(files[].content)).
  - A file with O(files[].validate) is checked, from a temporary copy in its directory, before it
    replaces the old one; a file that fails leaves every later file unwritten and the result names
    the files already written.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  directories:
    description: Directories to create, with their parents, before any file is written.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      mode:
        description: Mode, as an octal string.
        type: str
        default: "0755"
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
  files:
    description: The files to write, in order.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path. Its directory must exist or be in O(directories).
        type: path
        required: true
      content:
        description: The whole content, as text (UTF-8 on the host). Required with O(files[].state=present).
        type: str
      state:
        description: C(absent) removes the file (or link) where there is one.
        type: str
        choices: [present, absent]
        default: present
      mode:
        description: Mode, as an octal string.
        type: str
        default: "0644"
      owner:
        description: Owner.
        type: str
        default: root
      group:
        description: Group.
        type: str
        default: root
      validate:
        description: A command that checks a new content before it is written, C(%s) standing for
          the file to check; run without a shell.
        type: str
attributes:
  check_mode:
    support: full
    details: Reports what would be written and writes nothing (validation is skipped).
  diff_mode:
    support: full
    details: One diff per file whose content changes. Use C(no_log) on the task for secret contents.
  platform:
    platforms: posix
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: Install the exporter and its unit
  hacron.dkron.host_files:
    files:
      - path: /usr/local/lib/hacron_dkron_exporter.py
        content: "{{ lookup('ansible.builtin.file', 'hacron_dkron_exporter.py', rstrip=false) }}"
      - path: /etc/systemd/system/hacron-dkron-exporter.service
        content: "{{ lookup('ansible.builtin.template', 'hacron-dkron-exporter.service.j2') }}"
  register: exporter_files
  notify: Restart the exporter
"""

RETURN = r"""
changed_paths:
  description: The directories and files created or changed (in check mode, those that would be).
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/system/hacron-dkron-exporter.service]
"""

import os
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

OWNERSHIP = dict(owner=dict(type="str", default="root"), group=dict(type="str", default="root"))


def read_bytes(path):
    """The file's content, or None where there is no file."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_validated(module, spec, data, written):
    """Write data to a temporary file next to the target, validate it, and move it into place."""
    directory = os.path.dirname(spec["path"])
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".hacron-")
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(data)
        if spec.get("validate"):
            if "%s" not in spec["validate"]:
                module.fail_json(msg="validate must contain %%s: %s" % spec["validate"])
            command = [part.replace("%s", temporary) for part in shlex.split(spec["validate"])]
            rc, out, err = module.run_command(command)
            if rc != 0:
                module.fail_json(
                    msg="%s failed validation (%s, rc %d): %s" % (spec["path"], spec["validate"], rc, (err or out).strip()),
                    changed_paths=written,
                    changed=bool(written),
                )
        module.atomic_move(temporary, spec["path"])
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def attributes(spec):
    """The file arguments AnsibleModule compares and sets."""
    return dict(path=spec["path"], mode=spec["mode"], owner=spec["owner"], group=spec["group"],
                secontext=[None, None, None], attributes=None)


def ensure_directory(module, spec):
    changed = False
    if not os.path.isdir(spec["path"]):
        changed = True
        if not module.check_mode:
            os.makedirs(spec["path"], mode=0o755)
    if os.path.isdir(spec["path"]):
        changed = module.set_fs_attributes_if_different(attributes(spec), changed)
    return changed


def ensure_absent(module, spec, diffs):
    if not os.path.lexists(spec["path"]):
        return False
    if module._diff:
        before = read_bytes(spec["path"]) if os.path.isfile(spec["path"]) else b""
        diffs.append(dict(before_header=spec["path"], after_header="%s (absent)" % spec["path"],
                          before=to_native(before, errors="surrogate_or_replace"), after=""))
    if not module.check_mode:
        os.unlink(spec["path"])
    return True


def ensure_file(module, spec, diffs, written):
    if spec["state"] == "absent":
        return ensure_absent(module, spec, diffs)
    data = to_bytes(spec["content"], errors="surrogate_or_strict")
    current = read_bytes(spec["path"])
    changed = current != data
    if changed:
        if module._diff:
            diffs.append(dict(
                before_header=spec["path"], after_header=spec["path"],
                before=to_native(current or b"", errors="surrogate_or_replace"), after=spec["content"],
            ))
        if not module.check_mode:
            write_validated(module, spec, data, written)
    if os.path.exists(spec["path"]):
        changed = module.set_fs_attributes_if_different(attributes(spec), changed)
    return changed


def main():
    directory_options = dict(path=dict(type="path", required=True), mode=dict(type="str", default="0755"), **OWNERSHIP)
    file_options = dict(path=dict(type="path", required=True), mode=dict(type="str", default="0644"), content=dict(type="str"),
                        state=dict(type="str", choices=["present", "absent"], default="present"),
                        validate=dict(type="str"), **OWNERSHIP)
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(type="list", elements="dict", default=[], options=directory_options),
            files=dict(type="list", elements="dict", default=[], options=file_options,
                       required_if=[("state", "present", ("content",))]),
        ),
        supports_check_mode=True,
    )
    for spec in module.params["directories"] + module.params["files"]:
        if not os.path.isabs(spec["path"]):
            module.fail_json(msg="not an absolute path: %s" % spec["path"])
    # What is done so far: a validation failure reports it.
    written = []
    diffs = []
    for spec in module.params["directories"]:
        if ensure_directory(module, spec):
            written.append(spec["path"])
    for spec in module.params["files"]:
        if ensure_file(module, spec, diffs, written):
            written.append(spec["path"])
    result = dict(changed=bool(written), changed_paths=written)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
