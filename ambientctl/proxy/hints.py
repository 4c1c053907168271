"""When a dump holds no certificate the user asked for: which ztunnel (on which node) would hold it.

The only proxy module that queries the cluster beyond the dump itself; it
asks through the `KubeClient` it is given, and a failed look-up never hides
the real answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ambientctl.errors import NotFoundError
from ambientctl.proxy.identities import IdentityFilter
from ambientctl.proxy.model import ConfigDump
from ambientctl.workloads import is_captured

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient


def nothing_found_error(pod: dict[str, Any] | None, source: str, wanted: IdentityFilter | None,
                        dump: ConfigDump, kube: KubeClient | None, istio_namespace: str) -> NotFoundError:
    """Not an empty table: say which ztunnel would hold the certificate (ztunnel only holds its node's)."""
    node = (pod or {}).get("spec", {}).get("nodeName") if pod else None
    where = f"{source} (node {node})" if node else source
    if wanted is not None:
        message = f"{where} holds no certificate for {wanted.text}"
        held = len(dump.identities)
        if held:
            message += f" ({held} other identit{'y' if held == 1 else 'ies'})"
    else:
        message = f"{where} holds no certificates"
    if kube is None or pod is None:
        hint = ("ztunnel holds certificates only for workloads on its own node: dump the ztunnel on the node where "
                f"the workload runs (`ambientctl pc secret ds/ztunnel -n {istio_namespace} --node NODE`)")
        return NotFoundError(message, hint)
    try:
        hint = _suggest(kube, pod, wanted, node)
    except Exception as exc:  # noqa: BLE001 - a hint must never hide the real answer
        hint = f"ztunnel holds certificates only for workloads on its own node (could not look further: {exc})"
    return NotFoundError(message, hint)


def _suggest(kube: KubeClient, pod: dict[str, Any], wanted: IdentityFilter | None, node: str | None) -> str:
    ztunnels = _sibling_pods_by_node(kube, pod)
    namespace = pod["metadata"]["namespace"]
    if wanted is not None:
        pods = kube.list("v1", "Pod", wanted.namespace,
                         field_selector=f"spec.serviceAccountName={wanted.service_account}")
        running = [p for p in pods if p.get("status", {}).get("phase") in ("Running", "Pending")]
        if not running:
            return (f"no pod runs as service account {wanted.namespace}/{wanted.service_account}: check the name, "
                    "and that the workload runs in an ambient namespace")
        flag = f" --identity {wanted.text}"
    else:
        running = [p for p in kube.list("v1", "Pod", all_namespaces=True)
                   if is_captured(p)]
        if not running:
            return ("no pod is captured by ztunnel yet (annotation ambient.istio.io/redirection=enabled): "
                    "enrol a namespace with `ambientctl dataplane enroll NAMESPACE`")
        flag = ""
    by_node: dict[str, list[str]] = {}
    for p in running:
        by_node.setdefault(p.get("spec", {}).get("nodeName") or "(unscheduled)", []).append(
            f"{p['metadata']['namespace']}/{p['metadata']['name']}" if wanted is None else p["metadata"]["name"])
    parts = []
    for other, names in sorted(by_node.items()):
        shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        ztunnel = ztunnels.get(other)
        parts.append(f"{other}: {shown}" + (f" (ztunnel {ztunnel})" if ztunnel else " (no ztunnel pod there)"))
    who = f"pods running as {wanted.namespace}/{wanted.service_account}" if wanted else "meshed pods"
    target = next((n for n in sorted(by_node) if n != node and n in ztunnels), None)
    hint = f"ztunnel holds certificates only for workloads on its own node; {who} by node: {'; '.join(parts)}"
    if target:
        hint += f"; try `ambientctl pc secret pod/{ztunnels[target]} -n {namespace}{flag}`"
    elif node in by_node:
        hint += "; the workload runs on this node but ztunnel has no certificate yet: check ztunnel's logs"
    return hint


def _sibling_pods_by_node(kube: KubeClient, pod: dict[str, Any]) -> dict[str, str]:
    """node -> name of the pod of the same DaemonSet there (the ztunnel on each node)."""
    owners = pod["metadata"].get("ownerReferences") or []
    daemonset = next((o["name"] for o in owners if o.get("kind") == "DaemonSet"), None)
    if daemonset is None:
        return {}
    from ambientctl.kube.pods import pods_of

    siblings = pods_of(kube, "ds", daemonset, pod["metadata"]["namespace"])
    result: dict[str, str] = {}
    for sibling in siblings:
        node = sibling.get("spec", {}).get("nodeName")
        if node and node not in result:
            result[node] = sibling["metadata"]["name"]
    return result
