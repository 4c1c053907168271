"""Shared fixtures: the real test cluster (tests/support/cluster.py) and CLI helpers."""

pytest_plugins = ["tests.support.cluster", "tests.support.cli", "tests.support.leakcheck"]
