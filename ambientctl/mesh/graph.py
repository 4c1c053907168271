"""A picture of the ambient mesh: namespaces, enrolled workloads, waypoints, and who uses which waypoint.

`build` turns a MeshState into a small graph (pure data); the renderers turn
that into a rich tree for the terminal, or Mermaid / Graphviz text for docs.
Node ids are derived from names, so the text output is stable for golden
files and diffs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ambientctl.gateways import is_programmed, traffic_type
from ambientctl.labels import USE_WAYPOINT_LABEL, labels_of, name_of
from ambientctl.mesh.dataplane import namespace_mode
from ambientctl.mesh.model import MeshState
from ambientctl.workloads import has_sidecar, is_captured, pod_service_account

if TYPE_CHECKING:
    from rich.tree import Tree


@dataclass
class Workload:
    name: str
    service_account: str
    pods: int
    captured: int
    sidecars: int
    in_ambient: bool


@dataclass
class ServiceNode:
    name: str
    workloads: list[str]
    waypoint: str | None  # "NS/NAME"
    waypoint_missing: bool = False


@dataclass
class WaypointNode:
    name: str
    programmed: bool
    traffic: str
    pods: int


@dataclass
class NamespaceNode:
    name: str
    mode: str
    waypoint: str | None  # namespace-level use-waypoint, as "NS/NAME"
    waypoints: list[WaypointNode] = field(default_factory=list)
    services: list[ServiceNode] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)


def workload_name(pod: dict[str, Any]) -> str:
    """The pod's owner as people name it: Deployment (ReplicaSet minus its hash), else the owner, else the pod."""
    owners = (pod.get("metadata") or {}).get("ownerReferences") or []
    for owner in owners:
        if owner.get("kind") == "ReplicaSet":
            base, sep, _ = owner.get("name", "").rpartition("-")
            return base if sep else owner.get("name", "")
        if owner.get("kind") in ("StatefulSet", "DaemonSet", "Job"):
            return owner.get("name", "")
    return name_of(pod).removesuffix("-template")


def build(state: MeshState, all_namespaces: bool) -> list[NamespaceNode]:
    """Namespaces in scope: every one asked for; with -A only those in ambient or with waypoints."""
    nodes = []
    for ns_name in sorted(state.namespaces):
        if not state.in_scope(ns_name):
            continue
        ns = state.namespaces[ns_name]
        waypoints = state.waypoints(ns_name)
        if all_namespaces and not state.is_enrolled(ns_name) and not waypoints:
            continue
        ns_wp = state._resolve({"metadata": {"name": "", "namespace": ns_name}}) if USE_WAYPOINT_LABEL in labels_of(ns) \
            else None
        node = NamespaceNode(ns_name, namespace_mode(ns), f"{ns_wp.namespace}/{ns_wp.name}" if ns_wp else None)
        waypoint_pod_names = {name_of(p) for g in waypoints for p in state.waypoint_pods(g)}
        for gw in sorted(waypoints, key=name_of):
            node.waypoints.append(WaypointNode(name_of(gw), is_programmed(gw), traffic_type(gw),
                                               len(state.waypoint_pods(gw))))
        groups: dict[str, list[dict[str, Any]]] = {}
        for pod in state.live_pods(ns_name):
            if name_of(pod) not in waypoint_pod_names:
                groups.setdefault(workload_name(pod), []).append(pod)
        for wl_name, pods in sorted(groups.items()):
            node.workloads.append(Workload(
                wl_name, pod_service_account(pods[0]), len(pods),
                sum(1 for p in pods if is_captured(p)),
                sum(1 for p in pods if has_sidecar(p)),
                any(state.pod_in_ambient(p) for p in pods),
            ))
        for svc in sorted(state.services_in(ns_name), key=name_of):
            selected = sorted({workload_name(p) for p in state.pods_of_service(svc)
                               if name_of(p) not in waypoint_pod_names})
            if name_of(svc) in {name_of(w) for w in waypoints} and not selected:
                continue  # the Service istiod makes for a waypoint
            wp = state.waypoint_of_service(svc)
            if not (svc.get("spec") or {}).get("selector") and not wp:
                continue  # no selector (the `kubernetes` Service, external endpoints): not a mesh workload
            node.services.append(ServiceNode(
                name_of(svc), selected, f"{wp.namespace}/{wp.name}" if wp else None,
                bool(wp) and state.gateway(wp.namespace, wp.name) is None,
            ))
        nodes.append(node)
    return nodes


def as_document(nodes: list[NamespaceNode]) -> dict[str, Any]:
    from dataclasses import asdict

    return {"namespaces": [asdict(n) for n in nodes]}


# --------------------------------------------------------------------------- terminal tree


@dataclass
class _Branch:
    """One line of the tree and the lines under it."""

    label: str
    children: list[_Branch] = field(default_factory=list)

    def add(self, label: str) -> _Branch:
        child = _Branch(label)
        self.children.append(child)
        return child


def _outline(nodes: list[NamespaceNode], title: str, styled: bool) -> _Branch:
    """Namespaces, their waypoints with the Services using each, then the remaining Services and workloads.

    `styled`: labels in rich markup (a terminal); otherwise plain text (pipes, golden files).
    """
    from rich.markup import escape as rich_escape

    def st(style: str, text: str) -> str:
        return f"[{style}]{text}[/{style}]" if styled else text

    def escape(text: str) -> str:
        return rich_escape(text) if styled else text

    def service_line(svc: ServiceNode) -> str:
        return f"service {escape(svc.name)} → {', '.join(map(escape, svc.workloads)) or '-'}"

    root = _Branch(st("bold", escape(title)))
    if not nodes:
        root.add(st("dim", "no namespace in the ambient mesh (ambientctl dataplane enroll NAMESPACE)"))
    for ns in nodes:
        extra = f", namespace waypoint {ns.waypoint}" if ns.waypoint else ""
        branch = root.add(f"{st('bold cyan', 'namespace')} {escape(ns.name)} ({escape(ns.mode)}{escape(extra)})")
        by_waypoint: dict[str, list[ServiceNode]] = {}
        for svc in ns.services:
            if svc.waypoint:
                by_waypoint.setdefault(svc.waypoint, []).append(svc)
        for wp in ns.waypoints:
            programmed = st("green", "Programmed") if wp.programmed else st("red", "not Programmed")
            wp_branch = branch.add(f"{st('bold magenta', 'waypoint')} {wp.name} ({programmed}, for {wp.traffic}, "
                                   f"{wp.pods} pod(s))")
            for svc in by_waypoint.pop(f"{ns.name}/{wp.name}", []):
                wp_branch.add(service_line(svc))
        for waypoint, services in sorted(by_waypoint.items()):
            missing = any(s.waypoint_missing for s in services)
            label = st("red", f"waypoint {escape(waypoint)} (missing)") if missing else f"waypoint {escape(waypoint)}"
            wp_branch = branch.add(label)
            for svc in services:
                wp_branch.add(service_line(svc))
        plain = [s for s in ns.services if not s.waypoint]
        if plain:
            svc_branch = branch.add("services without waypoint (L4 only)")
            for svc in plain:
                svc_branch.add(service_line(svc))
        if ns.workloads:
            wl_branch = branch.add("workloads")
            for wl in ns.workloads:
                mark = st("green", "●") if wl.in_ambient and not wl.sidecars else st("yellow", "○")
                detail = f"sa {wl.service_account}, {wl.pods} pod(s)"
                if wl.sidecars:
                    detail += f", {wl.sidecars} with sidecar"
                elif not wl.in_ambient:
                    detail += ", not in ambient"
                wl_branch.add(f"{mark} {escape(wl.name)} ({escape(detail)})")
    return root


def tree(nodes: list[NamespaceNode], title: str = "mesh") -> Tree:
    """The tree for a terminal (rich, with colours)."""
    from rich.tree import Tree

    def grow(branch: _Branch, into: Tree) -> None:
        for child in branch.children:
            grow(child, into.add(child.label))

    outline = _outline(nodes, title, styled=True)
    root = Tree(outline.label)
    grow(outline, root)
    return root


def tree_text(nodes: list[NamespaceNode], title: str = "mesh") -> str:
    """The tree as plain text (pipes, golden files): rich's guide lines, drawn without rich.

    Why: rendering 10,000 workloads through rich took most of `x graph -A`'s time. Unlike
    rich, long lines are not wrapped at a terminal width (a pipe has none).
    """
    outline = _outline(nodes, title, styled=False)
    lines = [outline.label]

    def walk(branch: _Branch, prefix: str) -> None:
        last_index = len(branch.children) - 1
        for index, child in enumerate(branch.children):
            last = index == last_index
            lines.append(f"{prefix}{'└── ' if last else '├── '}{child.label}".rstrip())
            walk(child, prefix + ("    " if last else "│   "))

    walk(outline, "")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- Mermaid and Graphviz


def _id(*parts: str) -> str:
    return "_".join("".join(c if c.isalnum() else "_" for c in p) for p in parts)


def _missing_waypoints(ns: NamespaceNode) -> list[str]:
    return sorted({s.waypoint for s in ns.services if s.waypoint and s.waypoint_missing})


def mermaid(nodes: list[NamespaceNode]) -> str:
    """A Mermaid flowchart: one subgraph per namespace; Service → waypoint and Service → workload edges."""
    lines = ["flowchart LR"]
    edges = []
    for ns in nodes:
        lines.append(f'  subgraph {_id("ns", ns.name)}["{ns.name} ({ns.mode})"]')
        for wp in ns.waypoints:
            state = "Programmed" if wp.programmed else "not Programmed"
            lines.append(f'    {_id("wp", ns.name, wp.name)}{{{{"waypoint {wp.name}<br/>{state}"}}}}')
        for missing in _missing_waypoints(ns):
            wp_ns, _, wp_name = missing.partition("/")
            lines.append(f'    {_id("wp", wp_ns, wp_name)}{{{{"waypoint {missing}<br/>missing"}}}}')
        for svc in ns.services:
            lines.append(f'    {_id("svc", ns.name, svc.name)}(["svc {svc.name}"])')
            if svc.waypoint:
                wp_ns, _, wp_name = svc.waypoint.partition("/")
                edges.append(f'  {_id("svc", ns.name, svc.name)} -->|use-waypoint| {_id("wp", wp_ns, wp_name)}')
            for wl in svc.workloads:
                edges.append(f'  {_id("svc", ns.name, svc.name)} --> {_id("wl", ns.name, wl)}')
        for wl in ns.workloads:
            lines.append(f'    {_id("wl", ns.name, wl.name)}["{wl.name}<br/>sa {wl.service_account}"]')
        lines.append("  end")
    return "\n".join(lines + edges) + "\n"


def dot(nodes: list[NamespaceNode]) -> str:
    """Graphviz: one cluster per namespace; same nodes and edges as the Mermaid chart."""
    lines = ["digraph mesh {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    edges = []
    for ns in nodes:
        lines.append(f"  subgraph cluster_{_id(ns.name)} {{")
        lines.append(f'    label="{ns.name} ({ns.mode})";')
        for wp in ns.waypoints:
            state = "Programmed" if wp.programmed else "not Programmed"
            lines.append(f'    {_id("wp", ns.name, wp.name)} [shape=hexagon, label="waypoint {wp.name}\\n{state}"];')
        for missing in _missing_waypoints(ns):
            wp_ns, _, wp_name = missing.partition("/")
            lines.append(f'    {_id("wp", wp_ns, wp_name)} [shape=hexagon, style=dashed, '
                         f'label="waypoint {missing}\\nmissing"];')
        for svc in ns.services:
            lines.append(f'    {_id("svc", ns.name, svc.name)} [shape=ellipse, label="svc {svc.name}"];')
            if svc.waypoint:
                wp_ns, _, wp_name = svc.waypoint.partition("/")
                edges.append(f'  {_id("svc", ns.name, svc.name)} -> {_id("wp", wp_ns, wp_name)} '
                             '[label="use-waypoint"];')
            for wl in svc.workloads:
                edges.append(f'  {_id("svc", ns.name, svc.name)} -> {_id("wl", ns.name, wl)};')
        for wl in ns.workloads:
            lines.append(f'    {_id("wl", ns.name, wl.name)} [shape=box, label="{wl.name}\\nsa {wl.service_account}"];')
        lines.append("  }")
    return "\n".join(lines + edges + ["}"]) + "\n"
