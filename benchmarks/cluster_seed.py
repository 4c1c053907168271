"""Fill a test cluster (tests/cluster, kwok) with a large ambient mesh for benchmarks/cluster_scale.py.

    AMBIENTCTL_CLUSTER_STATE=~/.cache/ambientctl/cluster/state-bench tests/cluster up
    KUBECONFIG=... .venv/bin/python benchmarks/cluster_seed.py [--namespaces 1000] [--pods 10000]
                                                              [--waypoints 500] [--policies 2000]

What it creates (idempotent: server-side apply; names are stable):
  * nodes `scale-node-NN` managed by kwok (250 pods each), enough for the pods;
  * NAMESPACES namespaces `scale-NNNN`, all labelled istio.io/dataplane-mode=ambient;
  * PODS pods spread evenly, bound to those nodes (kwok runs them: no images, no containers),
    annotated ambient.istio.io/redirection=enabled as istio-cni would, each with a ServiceAccount
    of its app; three Services per namespace;
  * WAYPOINTS waypoints (Gateway, class istio-waypoint) in the first namespaces, each namespace
    labelled istio.io/use-waypoint;
  * POLICIES AuthorizationPolicies (security.istio.io/v1): per namespace an L4 ALLOW by source
    namespace, and in waypoint namespaces an L7 policy targeting the waypoint.
Istio's CRDs must be installed (`ambientctl install --set profile=ambient -y`).
Objects are created by a pool of threads through ambientctl's own kube client.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PODS_PER_NODE = 250
FIELD_MANAGER = "ambientctl-bench-seed"
PREFIX = "scale"


def namespaces(count: int, waypoints: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        labels = {"istio.io/dataplane-mode": "ambient", "bench": "scale"}
        if i < waypoints:
            labels["istio.io/use-waypoint"] = "waypoint"
        out.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{PREFIX}-{i:04d}", "labels": labels}})
    return out


def nodes(count: int) -> list[dict[str, Any]]:
    return [{"apiVersion": "v1", "kind": "Node",
             "metadata": {"name": f"{PREFIX}-node-{i:02d}",
                          "labels": {"kubernetes.io/hostname": f"{PREFIX}-node-{i:02d}", "kubernetes.io/os": "linux",
                                     "type": "kwok", "bench": "scale"},
                          "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"}},
             "spec": {"podCIDR": f"10.245.{i}.0/24", "podCIDRs": [f"10.245.{i}.0/24"],
                      "providerID": f"kwok://{PREFIX}-node-{i:02d}"}} for i in range(count)]


def app_of(pod_index: int) -> str:
    return f"app-{pod_index % 3}"


def workloads(namespace_count: int, pod_count: int, node_count: int) -> tuple[list[dict], list[dict], list[dict]]:
    """(service accounts, services, pods)."""
    accounts, services, pods = [], [], []
    per_ns = max(1, pod_count // namespace_count)
    for n in range(namespace_count):
        ns = f"{PREFIX}-{n:04d}"
        for app in ("app-0", "app-1", "app-2"):
            accounts.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": app, "namespace": ns}})
            services.append({"apiVersion": "v1", "kind": "Service",
                             "metadata": {"name": app, "namespace": ns, "labels": {"app": app}},
                             "spec": {"selector": {"app": app},
                                      "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        for p in range(per_ns):
            index = n * per_ns + p
            if index >= pod_count:
                break
            app = app_of(p)
            suffix = hashlib.sha256(f"{ns}/{p}".encode()).hexdigest()[:5]
            pods.append({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"{app}-{suffix}", "namespace": ns,
                             "labels": {"app": app, "version": "v1"},
                             "annotations": {"ambient.istio.io/redirection": "enabled"}},
                "spec": {"nodeName": f"{PREFIX}-node-{index % node_count:02d}", "serviceAccountName": app,
                         "automountServiceAccountToken": False,
                         "containers": [{"name": "app", "image": "registry.invalid/app:v1",
                                         "ports": [{"containerPort": 8080}]}],
                         "tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}]},
            })
    return accounts, services, pods


def waypoints(count: int) -> list[dict[str, Any]]:
    return [{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
             "metadata": {"name": "waypoint", "namespace": f"{PREFIX}-{i:04d}",
                          "labels": {"istio.io/waypoint-for": "service"}},
             "spec": {"gatewayClassName": "istio-waypoint",
                      "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]}} for i in range(count)]


def policies(count: int, namespace_count: int, waypoint_count: int) -> list[dict[str, Any]]:
    out = []
    for k in range(count):
        n = k % namespace_count
        ns = f"{PREFIX}-{n:04d}"
        source = f"{PREFIX}-{(n + 1) % namespace_count:04d}"
        if k < namespace_count or n >= waypoint_count:
            spec = {"selector": {"matchLabels": {"app": "app-0"}}, "action": "ALLOW",
                    "rules": [{"from": [{"source": {"namespaces": [source]}}]}]}
        else:
            spec = {"targetRefs": [{"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "waypoint"}],
                    "action": "ALLOW",
                    "rules": [{"from": [{"source": {"principals": [f"cluster.local/ns/{source}/sa/app-1"]}}],
                               "to": [{"operation": {"methods": ["GET"], "paths": ["/api/*"]}}]}]}
        out.append({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                    "metadata": {"name": f"policy-{k // namespace_count}", "namespace": ns}, "spec": spec})
    return out


def apply_all(kube: Any, objects: list[dict[str, Any]], what: str, threads: int) -> None:
    """Server-side apply each object (a pool of threads); progress on stderr."""
    started = time.monotonic()
    done = 0

    def one(obj: dict[str, Any]) -> None:
        for attempt in range(20):
            try:
                kube.apply(obj, force=True)
                return
            except Exception as exc:  # noqa: BLE001 - a namespace's ServiceAccount may not exist yet: retry
                if attempt == 19:
                    raise
                last = exc
                time.sleep(0.5)
        raise RuntimeError(last)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(one, objects):
            done += 1
            if done % 1000 == 0:
                print(f"  {what}: {done}/{len(objects)}", file=sys.stderr, flush=True)
    print(f"{what}: {len(objects)} applied in {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)


def wait_running(kube: Any, expected: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while True:
        pods = kube.list("v1", "Pod", all_namespaces=True, label_selector="version=v1")
        running = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Running")
        print(f"pods running: {running}/{expected}", file=sys.stderr, flush=True)
        if running >= expected or time.monotonic() > deadline:
            return
        time.sleep(10)


def client(kubeconfig: str | None) -> Any:
    from ambientctl.kube.client import KubeClient

    kube = KubeClient.connect(kubeconfig, timeout=60.0)
    kube.field_manager = FIELD_MANAGER
    kube.api.configuration.connection_pool_maxsize = 32
    return kube


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--waypoints", type=int, default=500)
    parser.add_argument("--policies", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    parser.add_argument("--no-wait", action="store_true")
    args = parser.parse_args(argv)
    kube = client(args.kubeconfig)
    steps: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = [
        ("nodes", lambda: nodes(-(-args.pods // PODS_PER_NODE))),
        ("namespaces", lambda: namespaces(args.namespaces, args.waypoints)),
    ]
    accounts, services, pods = workloads(args.namespaces, args.pods, -(-args.pods // PODS_PER_NODE))
    steps += [("service accounts", lambda: accounts), ("services", lambda: services), ("pods", lambda: pods),
              ("waypoints", lambda: waypoints(args.waypoints)),
              ("authorization policies", lambda: policies(args.policies, args.namespaces, args.waypoints))]
    for what, objects in steps:
        apply_all(kube, objects(), what, args.threads)
    if not args.no_wait:
        wait_running(kube, len(pods))
    return 0


if __name__ == "__main__":
    sys.exit(main())
