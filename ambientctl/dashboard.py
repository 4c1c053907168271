"""`dashboard`: which pod and port each web UI lives on, and how to open it (istioctl dashboard).

Facts from istioctl: the addons are found by their sample manifests' labels in
the Istio namespace, then in the -n namespace; a proxy's admin is port 15000,
ControlZ 9876, istiod's debug page the monitoring port (15014 unless the pod's
`prometheus.io/port` annotation says otherwise) under /debug. The local port
prefers the remote one and falls back to a free port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ambientctl.errors import NotFoundError, UsageError
from ambientctl.versions import ISTIO_VERSION

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

_RELEASE_BRANCH = "release-" + ".".join(ISTIO_VERSION.split(".")[:2])
_ADDONS_URL = f"https://raw.githubusercontent.com/istio/istio/{_RELEASE_BRANCH}/samples/addons"


@dataclass(frozen=True)
class Addon:
    """One of Istio's sample addons: how its pod is labelled, its UI port and path."""

    name: str
    title: str
    selector: str
    port: int
    path: str = ""
    manifest: str = ""  # under samples/addons of the Istio release

    def install_hint(self) -> str:
        return f"install it with: kubectl apply -f {_ADDONS_URL}/{self.manifest or self.name + '.yaml'}"


ADDONS: dict[str, Addon] = {a.name: a for a in (
    Addon("kiali", "Kiali", "app=kiali", 20001, "/kiali"),
    Addon("prometheus", "Prometheus", "app.kubernetes.io/name=prometheus", 9090),
    Addon("grafana", "Grafana", "app.kubernetes.io/name=grafana", 3000),
    Addon("jaeger", "Jaeger", "app=jaeger", 16686),
    Addon("zipkin", "Zipkin", "app=zipkin", 9411, manifest="extras/zipkin.yaml"),
    Addon("skywalking", "SkyWalking", "app=skywalking-ui", 8080, manifest="extras/skywalking.yaml"),
)}


@dataclass(frozen=True)
class Target:
    """A resolved dashboard: the pod, the remote port, and the URL path to open."""

    title: str
    pod: str
    namespace: str
    port: int
    path: str = ""


def _running_first(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def rank(pod: dict[str, Any]) -> tuple[bool, str]:
        return (pod.get("status", {}).get("phase") != "Running", pod["metadata"]["name"])
    return sorted(pods, key=rank)


def find_addon(kube: KubeClient, addon: Addon, namespaces: list[str], port: int | None = None) -> Target:
    """The addon's first (running) pod in the first namespace that has one."""
    searched: list[str] = []
    for namespace in dict.fromkeys(namespaces):
        searched.append(namespace)
        pods = [p for p in kube.list("v1", "Pod", namespace, label_selector=addon.selector)
                if not p["metadata"].get("deletionTimestamp")]
        if pods:
            pod = _running_first(pods)[0]
            return Target(addon.title, pod["metadata"]["name"], namespace, port or addon.port, addon.path)
    raise NotFoundError(
        f"{addon.title} is not installed (no pod with {addon.selector} in namespace {' or '.join(searched)})",
        addon.install_hint(),
    )


def pod_by_selector(kube: KubeClient, selector: str, namespace: str, warn: Any = None) -> dict[str, Any]:
    """The first pod a label selector picks (istioctl warns when several fit)."""
    pods = _running_first(kube.list("v1", "Pod", namespace, label_selector=selector))
    if not pods:
        raise NotFoundError(f"no pods found with selector {selector} in namespace {namespace}",
                            "check the selector and the namespace (-n)")
    if len(pods) > 1 and warn:
        warn(f"more than one pod fits selector {selector}; using {pods[0]['metadata']['name']}")
    return pods[0]


def check_pod_args(ref: str | None, selector: str | None) -> None:
    """Exactly one of a pod reference and `-l` (istioctl's rule), checked before any cluster call."""
    if selector and ref:
        raise UsageError("name cannot be provided when a selector is specified", "give a pod or -l, not both")
    if not selector and not ref:
        raise UsageError("specify a pod or --selector", "e.g. ds/ztunnel, deploy/istiod or -l app=istiod")


def pod_from_args(kube: KubeClient, ref: str | None, selector: str | None, namespace: str,
                  warn: Any = None) -> dict[str, Any]:
    """A pod named on the command line (`[<type>/]<name>[.<namespace>]`) or picked by `-l`."""
    from ambientctl.kube.pods import resolve_pod

    check_pod_args(ref, selector)
    if selector:
        return pod_by_selector(kube, selector, namespace, warn)
    return resolve_pod(kube, ref or "", namespace)


def url_for(address: str, port: int, path: str) -> str:
    """What the user opens: the listen address (IPv6 in brackets) and the UI's path."""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}{path}"


def open_browser(url: str) -> str | None:
    """Start the desktop's browser on `url` without waiting; a message when that is not possible.

    Only a graphical opener is used (never a text browser that would take over the terminal).
    """
    if sys.platform == "darwin":
        command = ["open", url]
    elif sys.platform.startswith("win"):
        os.startfile(url)  # type: ignore[attr-defined]  # noqa: S606 - Windows only
        return None
    elif os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        command = ["xdg-open", url]
    else:
        return f"no graphical display; open {url} in your browser"
    if not shutil.which(command[0]):
        return f"{command[0]} not found; open {url} in your browser"
    try:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # noqa: S603
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        return f"failed to open a browser; open {url} in your browser"
    return None
