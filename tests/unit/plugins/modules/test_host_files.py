"""host_files on real files in a temporary directory: what it writes, what it leaves, check mode,
validation and removal. Owner and group are the test's own user's, so it runs as any user."""

import grp
import json
import os
import pwd
import stat

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.hacron.dkron.plugins.modules import host_files

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run(capsys, check_mode=False, diff=False, **args):
    """The module's result, as Ansible would read it."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    for spec in args.get("directories", []) + args.get("files", []):
        spec.setdefault("owner", OWNER)
        spec.setdefault("group", GROUP)
    with patch_module_args(args), pytest.raises(SystemExit):
        host_files.main()
    return json.loads(capsys.readouterr().out)


def mode(path):
    return "%04o" % stat.S_IMODE(os.stat(path).st_mode)


def test_writes_then_leaves_alone(tmp_path, capsys):
    unit = tmp_path / "etc" / "unit.service"
    files = [{"path": str(unit), "content": "[Unit]\n", "mode": "0600"}]
    first = run(capsys, directories=[{"path": str(tmp_path / "etc")}], files=files)
    assert first["changed"] is True
    assert first["changed_paths"] == [str(tmp_path / "etc"), str(unit)]
    assert unit.read_text() == "[Unit]\n" and mode(unit) == "0600" and mode(tmp_path / "etc") == "0755"
    second = run(capsys, directories=[{"path": str(tmp_path / "etc")}], files=files)
    assert second["changed"] is False and second["changed_paths"] == []


def test_mode_alone_is_a_change(tmp_path, capsys):
    path = tmp_path / "a"
    path.write_text("same\n")
    os.chmod(path, 0o644)
    result = run(capsys, files=[{"path": str(path), "content": "same\n", "mode": "0640"}])
    assert result["changed_paths"] == [str(path)] and mode(path) == "0640"


def test_check_mode_reports_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "a"
    path.write_text("old\n")
    result = run(capsys, check_mode=True, diff=True, files=[
        {"path": str(path), "content": "new\n"},
        {"path": str(tmp_path / "missing" / "b"), "content": "x"},
    ])
    assert result["changed_paths"] == [str(path), str(tmp_path / "missing" / "b")]
    assert path.read_text() == "old\n" and not (tmp_path / "missing").exists()
    assert result["diff"][0] == {"before_header": str(path), "after_header": str(path), "before": "old\n", "after": "new\n"}


def test_failed_validation_keeps_the_old_file_and_names_what_was_written(tmp_path, capsys):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    second.write_text("{}\n")
    result = run(capsys, files=[
        {"path": str(first), "content": "[]\n", "validate": "python3 -m json.tool %s"},
        {"path": str(second), "content": "{not json\n", "validate": "python3 -m json.tool %s"},
    ])
    assert result["failed"] is True
    assert result["msg"].startswith("%s failed validation" % second)
    assert result["changed_paths"] == [str(first)]
    assert second.read_text() == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json", "second.json"]  # no temporary left


def test_absent_removes_files_and_links(tmp_path, capsys):
    target = tmp_path / "site.conf"
    target.write_text("server {}\n")
    link = tmp_path / "enabled.conf"
    link.symlink_to(target)
    result = run(capsys, files=[{"path": str(link), "state": "absent"}, {"path": str(tmp_path / "never"), "state": "absent"}])
    assert result["changed_paths"] == [str(link)]
    assert not os.path.lexists(link) and target.exists()


def test_content_is_required_unless_absent(tmp_path, capsys):
    result = run(capsys, files=[{"path": str(tmp_path / "a")}])
    assert result["failed"] is True and "content" in result["msg"]


def test_relative_path_refused_before_anything_is_written(tmp_path, capsys):
    result = run(capsys, files=[{"path": str(tmp_path / "a"), "content": "x"}, {"path": "relative", "content": "x"}])
    assert result["failed"] is True and result["msg"] == "not an absolute path: relative"
    assert not (tmp_path / "a").exists()
