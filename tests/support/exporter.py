"""The exporter as the tests and the benchmark load it: a file the exporter role installs on the
hosts (roles/exporter/files), not a module of the collection."""

import importlib.util
from pathlib import Path

EXPORTER = Path(__file__).resolve().parents[2] / "roles" / "exporter" / "files" / "hacron_dkron_exporter.py"


def load_exporter():
    spec = importlib.util.spec_from_file_location("hacron_dkron_exporter", EXPORTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
