"""A molecule scenario's hosts, by group, as its generated inventory names them."""

import os

import yaml


def molecule_groups(inventory=None):
    """{group: [host, ...]} from molecule's inventory (MOLECULE_INVENTORY_FILE unless given), hosts
    in the order the scenario lists them. Groups of no host are left out."""
    with open(inventory or os.environ["MOLECULE_INVENTORY_FILE"], encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {group: list(body["hosts"]) for group, body in data.items()
            if group != "all" and isinstance(body, dict) and body.get("hosts")}
