"""Every role documents exactly the variables its defaults set, with the same default values."""

from pathlib import Path

import pytest
import yaml

ROLES = sorted(path.parent.parent for path in Path(__file__).resolve().parents[2].glob("roles/*/defaults/main.yml"))


def test_there_are_roles():
    assert {role.name for role in ROLES} >= {"docker", "firewall", "swarm", "dkron"}


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_argument_specs_match_defaults(role):
    defaults = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
    specs = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert sorted(specs) == sorted(defaults), "documented and defaulted variables differ"
    for name, spec in specs.items():
        assert spec.get("default") == defaults[name], name
        assert name.startswith(role.name + "_"), "%s is not prefixed with the role's name" % name
        assert spec.get("description"), "%s has no description" % name
