"""The Gateway API CRD schemas of the release waypoints need, for validating generated objects offline.

The CRDs come from the Go module `sigs.k8s.io/gateway-api` at the pinned
release: found in the module cache, else fetched with `go mod download`
(through the Go module proxy). If neither works the test fails with the
reason; it never silently skips.

`validate(obj)` checks an object against the CRD's OpenAPI v3 schema with
`jsonschema`, strictly: a field the schema does not define is an error (the
API server would prune it silently). CEL rules (`x-kubernetes-validations`)
are not evaluated; the e2e tests cover what the API server itself checks.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from ambientctl.versions import GATEWAY_API_RELEASE

MODULE = "sigs.k8s.io/gateway-api"
STANDARD_CRDS = Path("config/crd/standard")
CRD_FILES = {"Gateway": "gateway.networking.k8s.io_gateways.yaml"}


def _go() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if os.path.exists("/usr/local/go/bin/go") else None)
    if not go:
        pytest.fail(f"cannot locate the Gateway API {GATEWAY_API_RELEASE} CRDs: the `go` tool is not installed "
                    f"(needed to fetch {MODULE}@{GATEWAY_API_RELEASE})", pytrace=False)
    return go


@functools.lru_cache(maxsize=None)
def module_dir(version: str = GATEWAY_API_RELEASE) -> Path:
    """The unpacked `sigs.k8s.io/gateway-api@version` module: from the cache, else downloaded."""
    go = _go()
    cache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, check=False).stdout.strip()
    if cache:
        candidate = Path(cache) / f"{MODULE}@{version}"
        if (candidate / STANDARD_CRDS).is_dir():
            return candidate
    result = subprocess.run(
        [go, "mod", "download", "-json", f"{MODULE}@{version}"],
        capture_output=True, text=True, check=False, timeout=600, cwd="/",
        env={**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on"},
    )
    try:
        info = json.loads(result.stdout or "{}")
    except ValueError:
        info = {}
    directory = info.get("Dir")
    if result.returncode != 0 or not directory or not (Path(directory) / STANDARD_CRDS).is_dir():
        reason = info.get("Error") or result.stderr.strip()[-500:] or f"exit {result.returncode}"
        pytest.fail(f"cannot download {MODULE}@{version} with `go mod download`: {reason}", pytrace=False)
    return Path(directory)


@functools.lru_cache(maxsize=None)
def crd(kind: str = "Gateway", version: str = GATEWAY_API_RELEASE) -> dict[str, Any]:
    path = module_dir(version) / STANDARD_CRDS / CRD_FILES[kind]
    data = yaml.safe_load(path.read_text())
    assert data["spec"]["names"]["kind"] == kind, path
    return data


@functools.lru_cache(maxsize=None)
def schema(kind: str = "Gateway", api_version: str = "v1") -> dict[str, Any]:
    """The OpenAPI v3 schema of one served version, made strict for unknown fields."""
    for entry in crd(kind)["spec"]["versions"]:
        if entry["name"] == api_version and entry.get("served"):
            return _strict(copy.deepcopy(entry["schema"]["openAPIV3Schema"]))
    raise AssertionError(f"{kind} CRD does not serve {api_version}")


def _strict(node: Any) -> Any:
    """Forbid properties the schema does not list (the API server would drop them)."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node \
                and not node.get("x-kubernetes-preserve-unknown-fields"):
            node["additionalProperties"] = False
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)
    return node


def validation_errors(obj: dict[str, Any]) -> list[str]:
    """Every schema violation of `obj` (a Gateway), as `path: message` lines; empty when valid."""
    import jsonschema

    group_version = obj.get("apiVersion", "")
    kind = obj.get("kind", "")
    version = group_version.rpartition("/")[2]
    validator = jsonschema.Draft202012Validator(schema(kind, version))
    return sorted(
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(obj)
    )
