"""End-to-end tests: the system through its public entrypoints (``make``, ``paicha``, HTTP).

Every test under this folder is marked ``e2e`` here, so none leaks into the unit run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)
