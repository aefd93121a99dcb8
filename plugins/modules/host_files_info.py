#!/usr/bin/python
# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_files_info
short_description: Read what a role keeps on a host, several files in one module run
version_added: 0.2.0
description:
  - For each path, whether it exists, its type, mode, owner, group and, for a file, its SHA-1
    checksum; for the paths in O(contents), also the content.
  - One module run for what would take one M(ansible.builtin.stat) or M(ansible.builtin.slurp) per
    file. The counterpart of M(hacron.dkron.host_files); a role reads what it keeps in one run,
    decides on the controller, and writes in one run.
  - Changes nothing.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  paths:
    description: Absolute paths to describe, without their content.
    type: list
    elements: path
    default: []
  contents:
    description: Absolute paths to describe with their content (base64, as M(ansible.builtin.slurp)
      returns it). Use C(no_log) on the task for secret contents.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    details: Reads the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - hacron.dkron contributors (@hacron)
"""

EXAMPLES = r"""
- name: Read the TLS files and the stored password hashes
  hacron.dkron.host_files_info:
    paths: [/etc/hacron/tls/server.key]
    contents: [/etc/hacron/tls/ca.crt, /etc/hacron/tls/server.crt, /etc/nginx/hacron-dkron.htpasswd]
  register: proxy_files
  no_log: true

- name: Show whether the server key exists
  ansible.builtin.debug:
    msg: "{{ proxy_files.files['/etc/hacron/tls/server.key'].exists }}"
"""

RETURN = r"""
files:
  description: Each path of O(paths) and O(contents), by path.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether something is at the path (a dangling link counts).
      type: bool
    type:
      description: C(file), C(directory), C(link) (a link is not followed), or C(other).
      type: str
      returned: when it exists
    mode:
      description: The permission bits, as an octal string such as C(0640).
      type: str
      returned: when it exists
    owner:
      description: The owner's name (the uid where it has none).
      type: str
      returned: when it exists
    group:
      description: The group's name (the gid where it has none).
      type: str
      returned: when it exists
    checksum:
      description: SHA-1 of the content, as M(ansible.builtin.stat) and M(ansible.builtin.find) give it.
      type: str
      returned: for a file
    content:
      description: The content, base64-encoded.
      type: str
      returned: for a file in O(contents)
  sample:
    /etc/hacron/tls/server.key: {exists: true, type: file, mode: "0600", owner: root, group: root,
                                 checksum: 2aae6c35c94fcfb415dbe95f408b9ce91ee846ed}
"""

import base64
import grp
import hashlib
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

TYPES = ((stat.S_ISLNK, "link"), (stat.S_ISREG, "file"), (stat.S_ISDIR, "directory"))


def name_of(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def describe(path, with_content):
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return dict(exists=False)
    kind = next((name for test, name in TYPES if test(info.st_mode)), "other")
    result = dict(exists=True, type=kind, mode="%04o" % stat.S_IMODE(info.st_mode),
                  owner=name_of(pwd.getpwuid, info.st_uid), group=name_of(grp.getgrgid, info.st_gid))
    if kind == "file":
        with open(path, "rb") as handle:
            data = handle.read()
        result["checksum"] = hashlib.sha1(data).hexdigest()
        if with_content:
            result["content"] = base64.b64encode(data).decode("ascii")
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", default=[]),
            contents=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    relative = [path for path in module.params["paths"] + module.params["contents"] if not os.path.isabs(path)]
    if relative:
        module.fail_json(msg="not absolute paths: %s" % ", ".join(relative))
    files = {}
    for path in module.params["paths"] + module.params["contents"]:
        try:
            files[path] = describe(path, path in module.params["contents"])
        except OSError as error:
            module.fail_json(msg="cannot read %s: %s" % (path, error))
    module.exit_json(changed=False, files=files)


if __name__ == "__main__":
    main()
