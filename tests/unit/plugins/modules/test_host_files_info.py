"""host_files_info on real files in a temporary directory: what it reports of files, directories,
links and missing paths, and the content only where asked."""

import base64
import hashlib
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hacron.dkron.plugins.modules import host_files_info


def run(capsys, **args):
    """The module's result, as Ansible would read it."""
    with patch_module_args(dict(args, _ansible_check_mode=True)), pytest.raises(SystemExit):
        host_files_info.main()
    return json.loads(capsys.readouterr().out)


def test_describes_files_directories_links_and_missing_paths(tmp_path, capsys):
    key = tmp_path / "server.key"
    key.write_bytes(b"secret\n")
    os.chmod(key, 0o600)
    cert = tmp_path / "ca.crt"
    cert.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    os.chmod(cert, 0o644)
    os.symlink(str(tmp_path / "gone"), str(tmp_path / "dangling"))
    paths = [str(key), str(tmp_path), str(tmp_path / "dangling"), str(tmp_path / "missing")]
    result = run(capsys, paths=paths, contents=[str(cert)])
    files = result["files"]
    assert result["changed"] is False and sorted(files) == sorted(paths + [str(cert)])
    assert files[str(key)]["type"] == "file" and files[str(key)]["mode"] == "0600"
    assert files[str(key)]["checksum"] == hashlib.sha1(b"secret\n").hexdigest()
    assert "content" not in files[str(key)], "a path of paths is described without its content"
    assert base64.b64decode(files[str(cert)]["content"]) == b"-----BEGIN CERTIFICATE-----\n"
    assert files[str(cert)]["mode"] == "0644"
    assert files[str(tmp_path)]["type"] == "directory" and "checksum" not in files[str(tmp_path)]
    assert files[str(tmp_path / "dangling")] == dict(files[str(tmp_path / "dangling")], exists=True, type="link")
    assert files[str(tmp_path / "missing")] == {"exists": False}
    assert files[str(key)]["owner"] and files[str(key)]["group"]


def test_a_relative_path_is_refused(capsys):
    result = run(capsys, paths=["etc/hacron"])
    assert result["failed"] is True and "not absolute paths: etc/hacron" in result["msg"]
