"""Versions ambientctl is built for: the Istio release it installs and what that release supports."""

from __future__ import annotations

from typing import Any

# The Istio release whose images `install` deploys by default (istioctl pins its
# own release the same way). Object shapes in manifests/ follow this release.
ISTIO_VERSION = "1.31.0"
ISTIO_HUB = "docker.io/istio"
# Kubernetes minor versions the pinned Istio release supports.
MIN_KUBERNETES_MINOR = 32
MAX_KUBERNETES_MINOR = 36
# The Gateway API release whose standard CRDs waypoints need.
GATEWAY_API_RELEASE = "v1.6.0"


def client_info() -> dict[str, Any]:
    """`version`'s clientVersion document: ambientctl, the Istio release it installs, the Python it runs on."""
    import platform

    return {"version": client_version(), "istioVersion": ISTIO_VERSION, "python": platform.python_version()}


def format_versions(info: dict[str, Any], short: bool) -> str:
    """`version`'s first lines: the client, and (with a cluster) Kubernetes and each mesh workload; the
    control plane per revision and the data plane (revision/remote.py) follow them."""
    client = info["clientVersion"]
    lines = [client["version"] if short else f"client version: {client['version']} (Istio {client['istioVersion']})"]
    if "kubernetesVersion" in info and not short:
        lines.append(f"kubernetes version: {info['kubernetesVersion']['gitVersion']}")
        for entry in info.get("meshVersion") or []:  # each workload, and who installed it
            by = f", installed by {entry['installedBy']}" if entry.get("installedBy") else ""
            lines.append(f"{entry['component']} version: {entry['version']} ({entry['pods']} pods, "
                         f"revision {entry['revision']}{by})")
    return "\n".join(lines) + "\n"


def client_version() -> str:
    """ambientctl's own version, from the installed package metadata."""
    from importlib import metadata

    try:
        return metadata.version("ambientctl")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"
