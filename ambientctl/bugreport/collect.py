"""Collect a bug report: find the mesh's parts, fetch each one concurrently, never stop at a failure.

Discovery (server version, nodes, pods) runs first; only an unreachable
cluster ends the command there. Every later part runs on a worker thread
with the time left before --timeout; a part that fails (a pod that cannot be
reached, a forbidden list) is recorded with its reason and the rest go on.
When the time is up, unfinished parts are recorded as such and the archive is
written with what arrived.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from ambientctl.bugreport import sources
from ambientctl.bugreport.archive import ANALYSIS, CLUSTER, CONTROL_PLANE, DATA_PLANE, EVENTS, LOGS, Archive
from ambientctl.bugreport.redact import redact_document, secret_rows
from ambientctl.bugreport.selection import PodInfo, Selection, TimeRange, line_time
from ambientctl.errors import AmbientctlError
from ambientctl.labels import GATEWAY_NAME_LABEL, SIDECAR_CONTAINER, labels_of
from ambientctl.meshparts import CNI, ISTIOD, ZTUNNEL, component_of_pod
from ambientctl.output import format_table, format_yaml_stream
from ambientctl.proxy.sources import ADMIN_PORT, CONFIG_DUMP_PATH
from ambientctl.workloads import monitoring_port

if TYPE_CHECKING:
    from ambientctl.kube.client import KubeClient

# istiod's debug endpoints istioctl 1.31's bug-report reads (served on the monitoring port, 15014);
# syncz first: when it fails the pod cannot be reached and the rest are not tried.
ISTIOD_DEBUG_PATHS = ("syncz", "adsz", "ambientz", "authorizationz", "cachez", "clusterz", "configz",
                      "endpointShardz", "endpointz", "inject", "krtz", "instancesz", "mcsz", "mesh", "networkz",
                      "push_status", "registryz", "resourcesz", "telemetryz")
LOG_LIMIT_BYTES = 16 * 1024 * 1024
# Groups whose objects describe the mesh: every resource in them is collected.
OBJECT_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io",
                 "gateway.networking.k8s.io", "gateway.networking.x-k8s.io")
ISTIO_NAMESPACE_KINDS = (("apps/v1", "Deployment"), ("apps/v1", "DaemonSet"), ("v1", "Service"),
                         ("v1", "ConfigMap"), ("v1", "ServiceAccount"), ("v1", "Pod"),
                         ("autoscaling/v2", "HorizontalPodAutoscaler"), ("policy/v1", "PodDisruptionBudget"))


@dataclass(frozen=True)
class Options:
    """What to collect, from where, within which bounds."""

    istio_namespace: str
    selection: Selection
    times: TimeRange
    timeout: float
    max_bytes: int
    proxy_admin_port: int = 15000
    concurrency: int = 8
    tail_lines: int | None = None
    skip: frozenset[str] = frozenset()  # istioctl's --skip-*: "cluster-dump", "analyze", "proxy-debug"


@dataclass
class Result:
    """One part's outcome: ok, or why not (a part may succeed with some of its pieces missing)."""

    title: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    finished: bool = True


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def done(self, result: Result) -> None: ...


@dataclass(frozen=True)
class Pod:
    """A pod of the mesh and its role: istiod, ztunnel, cni, waypoint, gateway, sidecar or istio-namespace."""

    role: str
    obj: dict[str, Any]

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]

    @property
    def namespace(self) -> str:
        return self.obj["metadata"]["namespace"]

    @property
    def node(self) -> str:
        return (self.obj.get("spec") or {}).get("nodeName") or "unscheduled"

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def classify(pod: dict[str, Any], istio_namespace: str, waypoints: set[tuple[str, str]]) -> str | None:
    """The pod's role in the mesh, by istioctl's labels and names (not only ambientctl's)."""
    labels = labels_of(pod)
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    containers = {c.get("name") for c in (pod.get("spec") or {}).get("containers") or []}
    gateway = labels.get(GATEWAY_NAME_LABEL)
    component = component_of_pod(pod, istio_namespace)
    if component is not None:
        return {ISTIOD: "istiod", ZTUNNEL: "ztunnel", CNI: "cni"}[component]
    if gateway:
        waypoint = ((namespace, gateway) in waypoints
                    or labels.get("gateway.istio.io/managed") == "istio.io-mesh-controller")
        return "waypoint" if waypoint else "gateway"
    if SIDECAR_CONTAINER in containers:
        return "gateway" if labels.get("istio", "").endswith("gateway") else "sidecar"
    if namespace == istio_namespace:
        return "istio-namespace"
    return None


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())


@dataclass
class Part:
    title: str
    run: Callable[[Result], None]


class Collector:
    """Plans and runs the parts of one bug report into an Archive."""

    def __init__(self, kube: KubeClient, options: Options, archive: Archive, client_version: str) -> None:
        self.kube = kube
        self.options = options
        self.archive = archive
        self.client_version = client_version
        self.deadline = Deadline(options.timeout)
        self.now = dt.datetime.now(dt.timezone.utc)
        self.pods: list[Pod] = []
        self.nodes: list[dict[str, Any]] = []
        self.discovery_problems: list[str] = []

    # ----------------------------------------------------------------------------------- timing

    def timeout(self) -> float:
        """A request's timeout: the client's, but never past --timeout."""
        return max(0.5, min(self.kube.timeout, self.deadline.left()))

    # -------------------------------------------------------------------------------- discovery

    def discover(self) -> dict[str, Any]:
        """Server version (fails the command when the cluster is unreachable), nodes and the mesh's pods."""
        version = self.kube.server_version()
        self.nodes = self._try_list("nodes", lambda: self.kube.list("v1", "Node"))
        waypoints = sources.waypoint_gateways(self.kube)
        found: dict[str, dict[str, Any]] = {}
        lookups = (
            ("pods in " + self.options.istio_namespace, lambda: self.kube.list("v1", "Pod", self.options.istio_namespace)),
            ("gateway and waypoint pods", lambda: self.kube.list(
                "v1", "Pod", all_namespaces=True, label_selector=GATEWAY_NAME_LABEL)),
            ("sidecar pods", lambda: self.kube.list("v1", "Pod", all_namespaces=True,
                                                    label_selector="security.istio.io/tlsMode=istio")),
        )
        for what, lookup in lookups:
            for pod in self._try_list(what, lookup):
                found.setdefault(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}", pod)
        for pod in found.values():
            role = classify(pod, self.options.istio_namespace, waypoints)
            if role and self.options.selection.pod(PodInfo.of(pod)):
                self.pods.append(Pod(role, pod))
        self.pods.sort(key=lambda p: (p.role, p.namespace, p.name))
        return version

    def _try_list(self, what: str, lookup: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        try:
            return lookup()
        except AmbientctlError as exc:
            self.discovery_problems.append(f"listing {what}: {exc.one_line()}")
            return []

    # ------------------------------------------------------------------------------------ plan

    def plan(self, server_version: dict[str, Any]) -> list[Part]:
        skip = self.options.skip
        parts = [Part("cluster and node versions", lambda r: self._cluster(server_version))]
        if "cluster-dump" not in skip:
            parts += [
                Part("Istio and Gateway API objects", self._objects),
                Part(f"workloads and config in {self.options.istio_namespace}", self._istio_namespace),
                Part("webhooks, namespaces, secret names", self._cluster_scope),
                Part("events", self._events),
            ]
        if "analyze" not in skip:
            parts.append(Part("analyze", lambda r: self.archive.add(
                "analyze.txt", sources.analyze_lines(self.kube, self.options.istio_namespace), ANALYSIS)))
        for pod in self.pods:
            if pod.role == "istiod":
                parts.append(Part(f"istiod debug endpoints {pod.ref}", lambda r, p=pod: self._istiod_debug(p, r)))
            if pod.role in ("ztunnel", "waypoint", "gateway", "sidecar") and "proxy-debug" not in skip:
                parts.append(Part(f"{pod.role} config dump {pod.ref} (node {pod.node})",
                                  lambda r, p=pod: self._config_dump(p)))
            for container in self.options.selection.containers(PodInfo.of(pod.obj)):
                parts.append(Part(f"{pod.role} log {pod.ref} ({container})",
                                  lambda r, p=pod, c=container: self._log(p, c)))
        return parts

    def _dir(self, pod: Pod) -> str:
        if pod.role in ("ztunnel", "cni"):
            return f"{pod.role}/{pod.node}/{pod.name}"
        if pod.role == "istiod":
            return f"istiod/{pod.name}"
        if pod.role == "istio-namespace":
            return f"pods/{pod.namespace}/{pod.name}"
        return f"{pod.role}s/{pod.namespace}/{pod.name}"

    # ----------------------------------------------------------------------------------- parts

    def _cluster(self, server_version: dict[str, Any]) -> None:
        versions = {"client": {"ambientctl": self.client_version},
                    "server": {k: server_version.get(k) for k in ("gitVersion", "platform", "goVersion")},
                    "context": self.kube.context_name, "server_url": self.kube.server}
        self.archive.add("cluster/versions.json", json.dumps(versions, indent=2) + "\n", CLUSTER)
        rows = []
        for node in self.nodes:
            info = (node.get("status") or {}).get("nodeInfo") or {}
            ready = next((c.get("status") for c in (node.get("status") or {}).get("conditions") or []
                          if c.get("type") == "Ready"), "Unknown")
            rows.append([node["metadata"]["name"], ready, info.get("kubeletVersion", ""), info.get("osImage", ""),
                         info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")])
        self.archive.add("cluster/nodes.txt", format_table(
            ["NAME", "READY", "KUBELET", "OS IMAGE", "KERNEL", "RUNTIME"], rows), CLUSTER)
        nodes = [redact_document({"metadata": {k: n["metadata"].get(k) for k in ("name", "labels", "annotations")},
                                  "spec": n.get("spec"),
                                  "status": {k: v for k, v in (n.get("status") or {}).items() if k != "images"}})
                 for n in self.nodes]
        self.archive.add("cluster/nodes.yaml", format_yaml_stream(nodes), CLUSTER)
        mesh_rows = [[p.role, p.namespace, p.name, p.node, ",".join(
            c.get("image", "") for c in (p.obj.get("spec") or {}).get("containers") or [])] for p in self.pods]
        self.archive.add("cluster/mesh-pods.txt", format_table(["ROLE", "NAMESPACE", "POD", "NODE", "IMAGES"],
                                                               mesh_rows), CLUSTER)

    def _objects(self, result: Result) -> None:
        groups = self.kube.request("GET", "/apis", timeout=self.timeout(), what="API groups").get("groups") or []
        for group in groups:
            name = group.get("name", "")
            if name not in OBJECT_GROUPS and not name.endswith(".istio.io"):
                continue
            version = (group.get("preferredVersion") or {}).get("groupVersion", "")
            try:
                listing = self.kube.request("GET", f"/apis/{version}", timeout=self.timeout(), what=version)
                for resource in listing.get("resources") or []:
                    if "/" in resource["name"] or "list" not in (resource.get("verbs") or []):
                        continue
                    items = self.kube.request("GET", f"/apis/{version}/{resource['name']}", timeout=self.timeout(),
                                              what=f"{resource['name']}.{name}").get("items") or []
                    kept = [self._clean(i, version, resource["kind"]) for i in items
                            if not resource.get("namespaced") or self.options.selection.namespace(
                                i["metadata"].get("namespace", ""))]
                    if kept:
                        self.archive.add(f"objects/{name}/{resource['name']}.yaml", format_yaml_stream(kept), CLUSTER)
            except AmbientctlError as exc:
                result.problems.append(f"{version}: {exc.one_line()}")

    def _clean(self, obj: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
        obj.setdefault("apiVersion", api_version)
        obj.setdefault("kind", kind)
        return redact_document(obj)

    def _istio_namespace(self, result: Result) -> None:
        namespace = self.options.istio_namespace
        for api_version, kind in ISTIO_NAMESPACE_KINDS:
            try:
                items = self.kube.list(api_version, kind, namespace)
            except AmbientctlError as exc:
                result.problems.append(f"{kind}: {exc.one_line()}")
                continue
            if items:
                cleaned = [self._clean(i, api_version, kind) for i in items]
                self.archive.add(f"objects/{namespace}/{kind.lower()}s.yaml", format_yaml_stream(cleaned), CLUSTER)

    def _cluster_scope(self, result: Result) -> None:
        try:
            hooks = [self._clean(h, "admissionregistration.k8s.io/v1", kind)
                     for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
                     for h in self.kube.list("admissionregistration.k8s.io/v1", kind)
                     if "istio" in h["metadata"]["name"] or any("istio" in k for k in h["metadata"].get("labels") or {})]
            self.archive.add("objects/webhooks.yaml", format_yaml_stream(hooks), CLUSTER)
        except AmbientctlError as exc:
            result.problems.append(f"webhooks: {exc.one_line()}")
        try:
            namespaces = [{"name": n["metadata"]["name"], "labels": n["metadata"].get("labels") or {},
                           "phase": (n.get("status") or {}).get("phase")} for n in self.kube.list("v1", "Namespace")]
            self.archive.add("cluster/namespaces.yaml", format_yaml_stream(namespaces), CLUSTER)
        except AmbientctlError as exc:
            result.problems.append(f"namespaces: {exc.one_line()}")
        try:
            secrets = self.kube.list("v1", "Secret", self.options.istio_namespace)
            self.archive.add("cluster/secrets.txt", "# names, types and key names only; never values\n" +
                             format_table(["NAMESPACE", "NAME", "TYPE", "KEYS"], secret_rows(secrets)), CLUSTER)
        except AmbientctlError as exc:
            result.problems.append(f"secret names: {exc.one_line()}")

    def _events(self, result: Result) -> None:
        rows = []
        for event in self.kube.list("v1", "Event", all_namespaces=True):
            meta = event.get("metadata") or {}
            namespace = meta.get("namespace", "")
            when = _event_time(event)
            if not self.options.selection.namespace(namespace) or not self.options.times.contains(when):
                continue
            obj = event.get("involvedObject") or event.get("regarding") or {}
            rows.append((when or self.now, [when.isoformat() if when else "", namespace, event.get("type", ""),
                                            event.get("reason", ""), f"{obj.get('kind', '')}/{obj.get('name', '')}",
                                            str(event.get("count") or 1),
                                            (event.get("message") or event.get("note") or "").replace("\n", " ")]))
        rows.sort(key=lambda r: r[0])
        self.archive.add("cluster/events.txt", format_table(
            ["TIME", "NAMESPACE", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"], [r[1] for r in rows]), EVENTS)

    def _istiod_debug(self, pod: Pod, result: Result) -> None:
        port = monitoring_port(pod.obj)
        fetched, not_served = 0, []
        for name in ISTIOD_DEBUG_PATHS:
            if not self.deadline.left():
                result.problems.append("--timeout reached before the remaining endpoints")
                break
            try:
                body = sources.http_get(self.kube, pod.namespace, pod.name, port, f"/debug/{name}", self.timeout())
            except AmbientctlError as exc:
                if "answered HTTP 404" in exc.message:
                    not_served.append(name)  # an older or newer istiod: one line for all of them
                    continue
                result.problems.append(f"/debug/{name}: {exc.one_line()}")
                if fetched == 0 and name == ISTIOD_DEBUG_PATHS[0]:
                    result.ok = False  # the first one failing means the pod cannot be reached: skip the rest
                    return
                continue
            fetched += 1
            self.archive.add(f"{self._dir(pod)}/debug/{name}.json", _pretty(body), CONTROL_PLANE)
        if not_served:
            result.problems.append(f"not served by this istiod (HTTP 404): {', '.join(not_served)}")
        result.ok = fetched > 0

    def _config_dump(self, pod: Pod) -> None:
        port = ADMIN_PORT if pod.role == "ztunnel" else self.options.proxy_admin_port
        path = CONFIG_DUMP_PATH if pod.role == "ztunnel" else f"{CONFIG_DUMP_PATH}?include_eds"
        data = sources.http_get(self.kube, pod.namespace, pod.name, port, path, self.timeout())
        self.archive.add(f"{self._dir(pod)}/config_dump.json", sources.redacted_dump(data), DATA_PLANE)
        if pod.role == "ztunnel":
            summary = sources.certificate_summary(data, f"{pod.ref} /config_dump", self.now)
            self.archive.add(f"{self._dir(pod)}/certificates.txt", summary, DATA_PLANE)

    def _log(self, pod: Pod, container: str) -> None:
        times = self.options.times
        data = sources.pod_log(self.kube, pod.namespace, pod.name, container,
                               since_seconds=times.since_seconds(dt.datetime.now(dt.timezone.utc)),
                               tail_lines=self.options.tail_lines,
                               limit_bytes=min(LOG_LIMIT_BYTES, self.options.max_bytes), timeout=self.timeout())
        text = data.decode("utf-8", "replace")
        if times.end_given:
            text = "".join(line for line in text.splitlines(keepends=True) if times.contains(line_time(line)))
        self.archive.add(f"{self._dir(pod)}/{container}.log", text, LOGS)

    # ------------------------------------------------------------------------------------- run

    def run(self, parts: list[Part], progress: Progress) -> list[Result]:
        """Run the parts on worker threads until done or --timeout; unfinished ones are reported as such."""
        work: queue.Queue[tuple[int, Part]] = queue.Queue()
        results: list[Result] = [Result(p.title, ok=False, finished=False) for p in parts]
        finished = threading.Condition()
        remaining = [len(parts)]
        for item in enumerate(parts):
            work.put(item)

        def worker() -> None:
            while self.deadline.left():
                try:
                    index, part = work.get_nowait()
                except queue.Empty:
                    return
                result = self._run_one(part)
                with finished:
                    if self.archive.sealed:  # too late: --timeout already wrote it off
                        return
                    results[index] = result
                    remaining[0] -= 1
                    finished.notify_all()
                progress.done(result)

        progress.start(len(parts))
        for _ in range(min(self.options.concurrency, len(parts))):
            threading.Thread(target=worker, daemon=True, name="bug-report").start()
        with finished:
            while remaining[0] and self.deadline.left():
                finished.wait(min(0.5, self.deadline.left()))
            self.archive.seal()
        for result in results:
            if not result.finished:
                result.problems.append(f"not finished within --timeout ({self.options.timeout:g}s)")
        return results

    def _run_one(self, part: Part) -> Result:
        result = Result(part.title)
        started = time.monotonic()
        try:
            part.run(result)
        except AmbientctlError as exc:
            result.ok = False
            result.problems.append(exc.one_line())
        except Exception as exc:  # noqa: BLE001 - one broken part must not lose the others
            result.ok = False
            result.problems.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        result.seconds = time.monotonic() - started
        return result


def _pretty(body: bytes) -> str:
    try:
        return json.dumps(redact_document(json.loads(body)), indent=1, sort_keys=True) + "\n"
    except ValueError:
        return body.decode("utf-8", "replace")


def _event_time(event: dict[str, Any]) -> dt.datetime | None:
    from ambientctl.bugreport.selection import parse_time

    for value in (event.get("lastTimestamp"), event.get("eventTime"),
                  (event.get("series") or {}).get("lastObservedTime"),
                  (event.get("metadata") or {}).get("creationTimestamp")):
        if value:
            try:
                return parse_time(str(value), "event")
            except AmbientctlError:
                continue
    return None
