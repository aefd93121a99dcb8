"""The verifier's tests serve the default and the overlay scenarios. A test that belongs to one of
them only says so with ``@pytest.mark.scenario(name)``; in the other it is deselected (never
collected as a skip), so every test that is collected runs."""

import os


def pytest_configure(config):
    config.addinivalue_line("markers", "scenario(name): runs only in the named molecule scenario")


def pytest_collection_modifyitems(config, items):
    current = os.environ.get("MOLECULE_SCENARIO_NAME", "default")
    kept, deselected = [], []
    for item in items:
        marker = item.get_closest_marker("scenario")
        (deselected if marker and current not in marker.args else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
