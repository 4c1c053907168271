"""pytest plugin: no private key, token or kubeconfig credential in anything ambientctl printed.

Every `tests.support.cli.invoke` result (and every output a test hands to
`record()`, e.g. from a subprocess) is kept for the session. At the end the
outputs are searched for:

* PEM private keys (`-----BEGIN ... PRIVATE KEY`),
* JWTs (`eyJhbGciOi`, the base64 of `{"alg":`: service-account tokens),
* the test cluster's own client keys and tokens, read from its kubeconfig files,
* any secret a test registers with `register_secret()`.

A hit fails the session (exit status 1) and names the command that printed it.
Enable with `pytest_plugins = [..., "tests.support.leakcheck"]` in tests/conftest.py.
"""

from __future__ import annotations

import base64
import os
import re
import sys
from dataclasses import dataclass

import pytest
import yaml

PATTERNS = {
    "PEM private key": re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY"),
    "JWT (service-account token)": re.compile(r"eyJhbGciOi[A-Za-z0-9_-]{4,}"),
}
MIN_SECRET_LENGTH = 12  # shorter "secrets" would match by accident


@dataclass
class Captured:
    command: str
    test: str
    text: str


_CAPTURED: list[Captured] = []
_SECRETS: dict[str, str] = {}  # secret text -> where it came from
_current_test = ""


def record(command: object, stdout: str, stderr: str) -> None:
    """Keep one command's output for the end-of-session search."""
    _CAPTURED.append(Captured(str(command)[:300], _current_test, f"{stdout}\n{stderr}"))


def register_secret(secret: str, origin: str) -> None:
    """A credential that must never appear in any output (its base64 form is searched for too)."""
    if secret and len(secret) >= MIN_SECRET_LENGTH:
        _SECRETS[secret] = origin


def secrets_of_kubeconfig(path: str) -> dict[str, str]:
    """Client keys and tokens of a kubeconfig: the raw values and, for keys, the PEM body lines."""
    try:
        with open(path) as handle:
            config = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError):
        return {}
    found: dict[str, str] = {}
    for entry in config.get("users") or []:
        user = (entry or {}).get("user") or {}
        origin = f"{path} user {entry.get('name')}"
        for field in ("token", "password", "client-key-data"):
            if isinstance(user.get(field), str):
                found[user[field]] = f"{origin} {field}"
        pem = _key_pem(user)
        for line in pem.splitlines():
            if len(line) >= 40 and "-----" not in line:  # a base64 body line of the private key
                found[line.strip()] = f"{origin} client key"
    return found


def _key_pem(user: dict) -> str:
    if isinstance(user.get("client-key-data"), str):
        try:
            return base64.b64decode(user["client-key-data"]).decode("ascii", "replace")
        except ValueError:
            return ""
    if isinstance(user.get("client-key"), str):
        try:
            with open(user["client-key"]) as handle:
                return handle.read()
        except OSError:
            return ""
    return ""


def _cluster_kubeconfigs() -> list[str]:
    from tests.support.clusterctl import default_state_dir

    state = default_state_dir()
    return [os.path.join(state, name) for name in ("kubeconfig", "kubeconfig-readonly")
            if os.path.exists(os.path.join(state, name))]


def find_leaks(captured: list[Captured], secrets: dict[str, str]) -> list[str]:
    """One line per (command, what leaked)."""
    leaks = []
    needles = dict(secrets)
    for secret, origin in secrets.items():
        needles[base64.b64encode(secret.encode()).decode()] = f"{origin} (base64)"
    for item in captured:
        for name, pattern in PATTERNS.items():
            if pattern.search(item.text):
                leaks.append(f"{item.test}: `{item.command}` printed a {name}")
        for secret, origin in needles.items():
            if secret in item.text:
                leaks.append(f"{item.test}: `{item.command}` printed {origin}")
    return leaks


def _wrap_invoke_results() -> None:
    """Record every Result built by tests.support.cli.invoke, whichever module imported `invoke`."""
    from tests.support import cli

    if getattr(cli.Result, "_leakcheck", False):
        return

    original_init = cli.Result.__init__

    def __init__(self, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)
        caller = sys._getframe(1).f_locals.get("args")  # invoke(*args) built this Result
        command = "ambientctl " + " ".join(map(str, caller)) if isinstance(caller, tuple) else "ambientctl (in-process)"
        record(command, self.stdout, self.stderr)

    cli.Result.__init__ = __init__
    cli.Result._leakcheck = True


def pytest_configure(config: pytest.Config) -> None:
    _wrap_invoke_results()
    for path in _cluster_kubeconfigs():
        for secret, origin in secrets_of_kubeconfig(path).items():
            register_secret(secret, origin)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _current_test
    _current_test = item.nodeid


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = find_leaks(_CAPTURED, _SECRETS)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if leaks:
        if reporter:
            reporter.write_sep("=", f"leakcheck: {len(leaks)} secret(s) in ambientctl output", red=True)
            for line in leaks[:50]:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter and _CAPTURED:
        reporter.write_line(f"leakcheck: {len(_CAPTURED)} outputs searched for {len(_SECRETS)} known secrets "
                            "and key/token patterns: clean")
