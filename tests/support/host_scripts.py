"""The scripts that roles install on the hosts (roles/*/files), loaded as modules by the tests and
the benchmarks: files the roles copy, not modules of the collection."""

import importlib.util
from pathlib import Path

ROLES = Path(__file__).resolve().parents[2] / "roles"
EXPORTER = ROLES / "exporter" / "files" / "hacron_dkron_exporter.py"
CATCHUP_SERVICE = ROLES / "catchup" / "files" / "hacron_dkron_catchup.py"


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_exporter():
    return _load(EXPORTER)


def load_catchup_service():
    return _load(CATCHUP_SERVICE)
