"""e2e ordering: the real-data-plane tests run last.

Why: they need the ztunnel binary, whose cold build (cargo, 20-40 minutes on 2 cores) scripts/test.sh
starts in the background.  Run last, they find it built while the other tests ran, instead of waiting
for it in the middle of the session.  The order of every other test is unchanged.
"""

from __future__ import annotations

LAST_MODULES = ("tests/e2e/test_real_dataplane.py",)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.nodeid.split("::")[0] in LAST_MODULES)  # stable: False (0) first
