"""Versions ambientctl is built for: the Istio release it installs and what that release supports."""

from __future__ import annotations

# The Istio release whose images `install` deploys by default (istioctl pins its
# own release the same way). Object shapes in manifests/ follow this release.
ISTIO_VERSION = "1.31.0"
ISTIO_HUB = "docker.io/istio"
# Kubernetes minor versions the pinned Istio release supports.
MIN_KUBERNETES_MINOR = 32
MAX_KUBERNETES_MINOR = 36
# The Gateway API release whose standard CRDs waypoints need.
GATEWAY_API_RELEASE = "v1.6.0"


def client_version() -> str:
    """ambientctl's own version, from the installed package metadata."""
    from importlib import metadata

    try:
        return metadata.version("ambientctl")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"
