"""Which dump a pc/zc command reads: a saved file, or the proxy pod a reference names.

A plain ambient workload pod is not a proxy: it means the ztunnel on its node
(which holds that pod's certificates), and the command then shows that pod's
identity. The cluster is reached only through the `KubeClient` passed in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ambientctl.errors import InvalidInputError, UsageError

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient
    from ambientctl.proxy.model import ConfigDump


class LoadedDump:
    """A parsed dump and where it came from (the pod, when read live). Not a dataclass: see proxy/model.py."""

    def __init__(self, dump: ConfigDump, source: str, pod: dict[str, Any] | None = None,
                 workload_identity: str | None = None, views: Any = None) -> None:
        self.dump = dump
        self.source = source      # "pod istio-system/ztunnel-x", "dump.json" or "stdin"
        self.pod = pod
        self.workload_identity = workload_identity  # NS/SA when the user pointed at a workload pod
        self.views = views        # proxy.ztunneldump.ZtunnelDump: the zc views built while reading


def check_source_flags(ref: str | None, node: str | None, file: str | None) -> None:
    """A dump comes from --file or from a pod (optionally picked by --node), never both."""
    if file and node:
        raise UsageError("--node picks a live ztunnel pod and cannot be used with --file",
                         "drop --node, or drop --file to read the ztunnel on that node")
    if file and ref:
        raise UsageError(f"give either a pod ({ref}) or --file, not both", "drop one of them")


def read_file(file: str, request: Any = None) -> LoadedDump:
    """A saved dump (`-` is stdin), parsed and redacted; no cluster."""
    from ambientctl.proxy.sources import read_dump_file

    source = "stdin" if file == "-" else file
    return _read(LoadedDump(None, source), read_dump_file(file), request)  # type: ignore[arg-type]


def read_pod(kube: KubeClient, pod: dict[str, Any], port: int, workload_identity: str | None = None,
             request: Any = None) -> LoadedDump:
    """GET the pod's /config_dump on its admin port through the API server, parsed and redacted."""
    from ambientctl.proxy.sources import fetch_dump

    name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
    where = f"pod {namespace}/{name}"
    loaded = LoadedDump(None, where, pod, workload_identity)  # type: ignore[arg-type]
    return _read(loaded, fetch_dump(kube, name, namespace, port), request)


def _read(loaded: LoadedDump, data: bytes | bytearray, request: Any) -> LoadedDump:
    """Read the dump once (`ztunneldump.read`): its certificates, and the zc views `request` names
    (a `ztunneldump.Request`, or a function of the LoadedDump giving one; None: certificates only)."""
    from ambientctl.proxy.ztunneldump import read

    views = read(data, loaded.source, request(loaded) if callable(request) else request)
    loaded.dump, loaded.views = views.dump, views
    return loaded


def resolve_proxy_pod(
    kube: KubeClient, ref: str | None, namespace: str, istio_namespace: str, node: str | None,
    info: Callable[[str], None],
) -> tuple[dict[str, Any], str | None]:
    """The proxy pod to read, and the workload identity (NS/SA) when `ref` named a workload pod.

    No `ref`: the ztunnel DaemonSet's pod (on `node` if given) in `namespace`.
    """
    from ambientctl.kube.pods import resolve_pod

    if not ref:
        return ztunnel_pod(kube, namespace, node), None
    pod = resolve_pod(kube, ref, namespace, node=node)
    if is_proxy(pod):
        return pod, None
    workload_node = pod.get("spec", {}).get("nodeName")
    if not workload_node:
        raise InvalidInputError(f"pod {pod['metadata']['namespace']}/{pod['metadata']['name']} is not a proxy and is "
                                "not scheduled to a node yet", "wait for it to be scheduled, or name a ztunnel pod")
    ztunnel = ztunnel_pod(kube, istio_namespace, workload_node)
    account = pod.get("spec", {}).get("serviceAccountName") or "default"
    identity = f"{pod['metadata']['namespace']}/{account}"
    info(f"pod {pod['metadata']['namespace']}/{pod['metadata']['name']} is not a proxy: showing identity "
         f"{identity} from ztunnel {ztunnel['metadata']['name']} on its node {workload_node}")
    return ztunnel, identity


def ztunnel_pod(kube: KubeClient, namespace: str, node: str | None) -> dict[str, Any]:
    """The ztunnel pod of `namespace` (on `node` if given), found as `meshparts` finds ztunnel under any installer."""
    from ambientctl.errors import NotFoundError
    from ambientctl.meshparts import ZTUNNEL_POD_SELECTOR, ztunnel_pods

    pods = ztunnel_pods(kube, namespace, node)
    if not pods:
        where = f" on node {node}" if node else ""
        raise NotFoundError(f"no ztunnel pod ({ZTUNNEL_POD_SELECTOR}) in namespace {namespace}{where}",
                            "check the Istio namespace (-i or -n) and that ztunnel runs there")
    return pods[0]


def is_proxy(pod: dict[str, Any]) -> bool:
    """ztunnel (label app=ztunnel, as istioctl checks) or an Envoy (an istio-proxy container)."""
    from ambientctl.labels import SIDECAR_CONTAINER
    from ambientctl.meshparts import is_ztunnel_pod

    if is_ztunnel_pod(pod):
        return True
    containers = pod.get("spec", {}).get("containers", []) + pod.get("spec", {}).get("initContainers", [])
    return any(c.get("name") == SIDECAR_CONTAINER for c in containers)
