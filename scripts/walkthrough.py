#!/usr/bin/env python3
"""The guide's steps 1 to 11 through the `ambientctl` CLI, printing each command and its output.

`make demo` runs this after scripts/setup.sh. Which cluster:

* `--kubeconfig PATH`, `KUBECONFIG`, or `CLUSTER` (a kubeconfig path, or a context name of your
  kubeconfig): your cluster. Everything runs for real; the parts that only exist for the local test
  cluster (the local istiod and ztunnels, the metrics stand-in) are skipped, and the script says so.
* none of these: the local test cluster (`tests/cluster up --instance demo`, kube-apiserver + kwok).
  Its pods are simulated, so after step 2 the script runs the REAL istiod (pilot-discovery) and one
  REAL ztunnel per node as local processes (tests/support/realmesh.py; built from source on the first
  run, with progress every 30 s): the certificates of step 6 are signed by that istiod and read from
  those ztunnels, and istiod's own controller programs the waypoints of steps 8 and 11.  Stand-ins
  remain only where no process can run here: istio-cni's pod annotation, and the waypoint's Envoy
  metrics of step 10 (no traffic flows).

Exits non-zero at the first failing step. `--cleanup` removes everything at the end.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
AMBIENTCTL = str(REPO / ".venv" / "bin" / "ambientctl")
JQ_FILTER = ".dynamicActiveSecrets[0].secret.tlsCertificate.certificateChain.inlineBytes"
PRODUCTPAGE_WAYPOINT = "productpage-waypoint"
REVIEWS_WAYPOINT = "reviews-waypoint"


@dataclass
class Target:
    """Where the demo runs and how ambientctl is pointed at it."""

    flags: list[str]  # -c PATH or --context NAME
    env: dict[str, str]
    local: bool
    kubeconfig: str | None = None


class StepFailed(Exception):
    pass


def say(text: str) -> None:
    print(text, flush=True)


def banner(number: int, title: str) -> None:
    say(f"\n=== Step {number}: {title}")


def ambientctl(target: Target, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `ambientctl ARGS` as a user would, echoing the command and its output."""
    argv = [AMBIENTCTL, *target.flags, *args]
    say(f"$ ambientctl {' '.join(shlex.quote(a) for a in args)}")
    # stderr (progress, warnings) interleaved with stdout, as on a terminal
    result = subprocess.run(argv, env=target.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(result.stdout)
    sys.stdout.flush()
    if check and result.returncode != 0:
        raise StepFailed(f"ambientctl {' '.join(args)} exited with {result.returncode}")
    return result


def shell(target: Target, shown: str, command: str) -> None:
    """A pipeline, as the guide writes it (`shown`), run with our ambientctl."""
    say(f"$ {shown}")
    result = subprocess.run(command, shell=True, env=target.env, capture_output=True, text=True,
                            executable="/bin/bash")
    sys.stdout.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise StepFailed(f"pipeline exited with {result.returncode}")


def wait_for_pods(target: Target, namespace: str, count: int, selector: str | None = None,
                  timeout: float = 180) -> None:
    """Like `kubectl wait`: until `count` pods are Running."""
    from kubernetes import client

    core = client.CoreV1Api(_api(target))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = core.list_namespaced_pod(namespace, label_selector=selector).items
        if len([p for p in pods if p.status.phase == "Running"]) >= count:
            return
        time.sleep(1)
    raise StepFailed(f"fewer than {count} pods Running in {namespace} after {timeout:.0f}s")


def print_pods(target: Target, namespace: str) -> None:
    """`kubectl get pod -n NAMESPACE -o wide`, through the Python client."""
    from kubernetes import client

    from ambientctl.output import format_table

    say(f"$ kubectl get pod -n {namespace} -o wide")
    pods = client.CoreV1Api(_api(target)).list_namespaced_pod(namespace).items
    rows = []
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        statuses = pod.status.container_statuses or []
        ready = f"{sum(1 for s in statuses if s.ready)}/{len(pod.spec.containers)}"
        rows.append([pod.metadata.name, ready, pod.status.phase, pod.spec.node_name or "<none>"])
    sys.stdout.write(format_table(["NAME", "READY", "STATUS", "NODE"], rows))


def _context(target: Target) -> str | None:
    return target.flags[1] if target.flags[:1] == ["--context"] else None


def _api(target: Target):
    """An API client for the same cluster and context ambientctl uses."""
    from kubernetes import config

    return config.new_client_from_config(config_file=target.kubeconfig, context=_context(target))


# ------------------------------------------------------------------------------------ the cluster


def choose_target(args: argparse.Namespace) -> Target:
    env = dict(os.environ)
    given = args.kubeconfig or os.environ.get("KUBECONFIG")
    cluster = os.environ.get("CLUSTER")
    if given:
        return Target(["-c", given], env, local=False, kubeconfig=given)
    if cluster:
        if Path(cluster).is_file():
            return Target(["-c", cluster], env, local=False, kubeconfig=cluster)
        return Target(["--context", cluster], env, local=False)
    say("No KUBECONFIG, --kubeconfig or CLUSTER given: using the local test cluster's demo instance "
        "(tests/cluster up --instance demo; `make test` uses its own instance).")
    kubeconfig = local_cluster_up()
    env["KUBECONFIG"] = kubeconfig
    return Target(["-c", kubeconfig], env, local=True, kubeconfig=kubeconfig)


def local_cluster_up() -> str:
    """`tests/cluster up --instance demo` (builds Kubernetes on the first run, with a heartbeat); its kubeconfig."""
    from tests.support.progress import run_with_heartbeat, tail

    log = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ambientctl" / "cluster" / "up-demo.log"
    up = run_with_heartbeat("test cluster (tests/cluster up --instance demo)",
                            [str(REPO / "tests" / "cluster"), "up", "--instance", "demo"], log, timeout=3600,
                            say=say, cwd=str(REPO), announce=False)
    last = (up.stdout.strip().splitlines() or [""])[-1]
    if up.returncode != 0 or not last.startswith("KUBECONFIG="):
        say(tail(log, 40))
        raise StepFailed("tests/cluster up failed")
    return last.split("=", 1)[1]


class LocalCluster:
    """The local test cluster's extras: the real istiod and ztunnels, and the one stand-in left (metrics).

    Real: istiod (pilot-discovery: XDS, CA, the waypoint controller) and one ztunnel per node
    (tests/support/realmesh.py), built on the first run.  Stand-ins: istio-cni's annotation
    (tests/support/cnistandin.py), and the waypoint's Envoy metrics on pod port 15020 (no Envoy runs).
    """

    def __init__(self, builds: "LocalBuilds") -> None:
        self.builds = builds
        self.mesh = None
        self.stats = None

    def start_control_and_data_plane(self, kubeconfig: str) -> None:
        from tests.support.cluster import Cluster
        from tests.support.realmesh import RealMesh

        pilot_discovery, ztunnel = self.builds.wait()
        say("(local cluster: starting the real istiod (pilot-discovery) and one real ztunnel per node as local "
            "processes; kwok's port-forward of each ztunnel pod reaches its process)")
        cluster = Cluster.from_state(str(Path(kubeconfig).parent))
        self.mesh = RealMesh(cluster).start(pilot_discovery, ztunnel)

    def wait_for_dump(self, ready, what: str, timeout: float = 60) -> None:
        """Until some local ztunnel's /config_dump satisfies `ready` (read directly: no port-forward)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ztunnel in self.mesh.ztunnels.by_node.values():
                try:
                    if ready(ztunnel.config_dump()):
                        return
                except (OSError, ValueError):
                    pass
            time.sleep(0.5)
        raise StepFailed(f"no local ztunnel shows {what} after {timeout:.0f}s:\n{self.mesh.log_tails()}")

    def serve_metrics(self, kubeconfig: str, namespace: str) -> None:
        from tests.support.cluster import Cluster
        from tests.support.standin import StandIn
        from tests.unit.test_metrics import series, stats_text

        cluster = Cluster.from_state(str(Path(kubeconfig).parent))
        self.stats = StandIn(cluster.standin_ports[15020]).start()
        self.stats.set_stats(stats_text([series("sleep", 200, 10, namespace=namespace),
                                         series("notsleep", 403, 4, namespace=namespace)]))

    def stop(self) -> None:
        if self.mesh is not None:
            self.mesh.stop()
        if self.stats is not None:
            self.stats.stop()


class LocalBuilds:
    """istiod's and ztunnel's builds, started early so they overlap the Kubernetes build."""

    def __init__(self) -> None:
        from tests.support.realmesh import BackgroundBuild, build_pilot_discovery, build_ztunnel

        self.ztunnel = BackgroundBuild(build_ztunnel, say)
        self.pilot_discovery = BackgroundBuild(build_pilot_discovery, say)

    def wait(self) -> tuple[Path, Path]:
        from tests.support.realmesh import RealMeshUnavailable

        try:
            return self.pilot_discovery.result(), self.ztunnel.result()
        except RealMeshUnavailable as exc:
            raise StepFailed(str(exc)) from None


def wait_for_certificate(target: Target, namespace: str, account: str, timeout: float = 60) -> None:
    """Until the ztunnel on the node of `account`'s pod holds its certificate (ztunnel prefetches it)."""
    argv = [AMBIENTCTL, *target.flags, "pc", "secret", f"deploy/{account}", "-n", namespace, "-o", "json"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = subprocess.run(argv, env=target.env, capture_output=True, text=True)
        if result.returncode == 0 and f"/sa/{account}" in result.stdout:
            return
        time.sleep(1)
    raise StepFailed(f"no ztunnel holds a certificate for {namespace}/{account} after {timeout:.0f}s")


def remove_standin_waypoints(target: Target, namespace: str) -> None:
    """Earlier demos' stand-in waypoint Deployments (no ownerReferences, so deleting the Gateway left them)."""
    from kubernetes import client

    apps = client.AppsV1Api(_api(target))
    for deployment in apps.list_namespaced_deployment(namespace).items:
        labels = deployment.metadata.labels or {}
        if (deployment.metadata.name in (PRODUCTPAGE_WAYPOINT, REVIEWS_WAYPOINT)
                and labels.get("gateway.networking.k8s.io/gateway-name") == deployment.metadata.name
                and not deployment.metadata.owner_references):
            say(f"$ kubectl delete deployment {deployment.metadata.name} -n {namespace}   "
                "# left by an earlier demo's stand-in waypoint controller")
            apps.delete_namespaced_deployment(deployment.metadata.name, namespace)


# ------------------------------------------------------------------------------------ the steps


def run_guide(target: Target, ns: str, istio_ns: str, local: LocalCluster | None) -> None:
    def skipped(what: str) -> None:
        say(f"(your cluster: {what} is left out; it only exists for the local test cluster)")

    banner(1, "does the cluster fit?")
    ambientctl(target, "x", "precheck")

    banner(2, "install the ambient profile")
    ambientctl(target, "install", "--set", "profile=ambient", "-y")
    if local:
        local.start_control_and_data_plane(target.kubeconfig or "")

    banner(3, "one istiod, one ingress gateway, istio-cni and ztunnel on every node")
    ambientctl(target, "verify-install", "--set", "profile=ambient")
    print_pods(target, istio_ns)

    banner(4, "the apps, exactly as without a mesh")
    ambientctl(target, "samples", "apply", "bookinfo", "bookinfo-gateway", "sleep", "notsleep", "-n", ns)
    wait_for_pods(target, ns, 7)
    print_pods(target, ns)

    banner(5, "put the namespace in the mesh: no restart")
    ambientctl(target, "dataplane", "enroll", ns)

    banner(6, "mTLS: sleep's workload certificate, from ztunnel")
    if local:
        local.wait_for_dump(lambda dump: any(c.get("identity") == f"spiffe://cluster.local/ns/{ns}/sa/sleep"
                                             for c in dump.get("certificates") or []), "sleep's certificate")
    else:
        wait_for_certificate(target, ns, "sleep")
    node = pod_node(target, ns, "app=sleep")
    ambientctl(target, "pc", "secret", "ds/ztunnel", "-n", istio_ns, "--node", node)
    shell(target,
          f"ambientctl pc secret deploy/sleep -n {ns} -o json | jq -r '{JQ_FILTER}' | base64 --decode "
          "| openssl x509 -noout -text",
          f"{shlex.quote(AMBIENTCTL)} {' '.join(map(shlex.quote, target.flags))} pc secret deploy/sleep "
          f"-n {ns} -o json | jq -r '{JQ_FILTER}' | base64 --decode | openssl x509 -noout -text")
    ambientctl(target, "zc", "workload", "-i", istio_ns, "--workload-namespace", ns)

    banner(7, "L4 policy: only sleep, the ingress gateway and productpage's waypoint reach productpage")
    ambientctl(target, "x", "authz", "allow", "--to", "app=productpage", "--from", "sa/sleep",
               "--from", f"sa/{istio_ns}/istio-ingressgateway-service-account",
               "--from", f"sa/{PRODUCTPAGE_WAYPOINT}", "--name", "productpage-viewer", "-n", ns, "--apply")
    if local:
        local.wait_for_dump(lambda dump: any((p.get("namespace"), p.get("name")) == (ns, "productpage-viewer")
                                             for p in dump.get("policies") or []), "policy productpage-viewer")
    else:
        wait_until_shown(target, ["zc", "policy", "-i", istio_ns], ns, "productpage-viewer")
    ambientctl(target, "zc", "policy", "-i", istio_ns)

    banner(8, "a waypoint for productpage")
    if local:
        say("(local cluster: the real istiod's gateway controller deploys the waypoint; kwok runs its pod)")
    ambientctl(target, "waypoint", "apply", "--service-account", "bookinfo-productpage",
               "--name", PRODUCTPAGE_WAYPOINT, "-n", ns, "--wait")
    ambientctl(target, "waypoint", "status", PRODUCTPAGE_WAYPOINT, "-n", ns)

    banner(9, "L7 policy: GET only, enforced by the waypoint")
    ambientctl(target, "x", "authz", "allow", "--to", "service/productpage", "--from", "sa/sleep",
               "--methods", "GET", "--name", "productpage-viewer-l7", "-n", ns, "--apply")
    ambientctl(target, "x", "authz", "check", "deploy/productpage-v1", "-n", ns)
    ambientctl(target, "analyze", "-n", ns)

    banner(10, "the waypoint's request metrics")
    if local:
        local.serve_metrics(target.kubeconfig or "", ns)
        say("(local cluster: no Envoy runs in the simulated waypoint pod and no request is sent: a stand-in "
            "serves these counters on the pod's port 15020)")
        ambientctl(target, "waypoint", "metrics", PRODUCTPAGE_WAYPOINT, "-n", ns)
    else:
        skipped("serving generated metrics")
        say(f"(send some requests first: kubectl exec -n {ns} deploy/sleep -- curl -s http://productpage:9080/)")
        ambientctl(target, "waypoint", "metrics", PRODUCTPAGE_WAYPOINT, "-n", ns)

    banner(11, "a waypoint for reviews, and 90/10 between v1 and v2")
    ambientctl(target, "waypoint", "apply", "--service-account", "bookinfo-reviews", "--name", REVIEWS_WAYPOINT,
               "-n", ns, "--wait")
    ambientctl(target, "samples", "apply", "reviews-90-10", "-n", ns)
    ambientctl(target, "x", "graph", "-n", ns)


def pod_node(target: Target, namespace: str, selector: str) -> str:
    from kubernetes import client

    pods = client.CoreV1Api(_api(target)).list_namespaced_pod(namespace, label_selector=selector).items
    if not pods or not pods[0].spec.node_name:
        raise StepFailed(f"no scheduled pod with {selector} in {namespace}")
    return pods[0].spec.node_name


def wait_until_shown(target: Target, args: list[str], *words: str, timeout: float = 60) -> None:
    """Until `ambientctl ARGS` prints a line holding every one of `words` (ztunnel learns from istiod)."""
    argv = [AMBIENTCTL, *target.flags, *args]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = subprocess.run(argv, env=target.env, capture_output=True, text=True)
        if any(all(w in line for w in words) for line in result.stdout.splitlines()):
            return
        time.sleep(1)
    raise StepFailed(f"`ambientctl {' '.join(args)}` did not show {' '.join(words)} within {timeout:.0f}s")


def cleanup(target: Target, ns: str) -> None:
    say("\n=== Cleanup")
    ambientctl(target, "waypoint", "delete", "--all", "-n", ns, check=False)
    if target.local:
        remove_standin_waypoints(target, ns)
    ambientctl(target, "samples", "delete", "bookinfo", "bookinfo-gateway", "sleep", "notsleep", "reviews-90-10",
               "-n", ns, check=False)
    ambientctl(target, "dataplane", "unenroll", ns, "--force", check=False)
    ambientctl(target, "uninstall", "--purge", "--force", "-y")


def wants_local_cluster(args: argparse.Namespace) -> bool:
    return not (args.kubeconfig or os.environ.get("KUBECONFIG") or os.environ.get("CLUSTER"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubeconfig", help="Your cluster's kubeconfig (default: $KUBECONFIG, $CLUSTER, "
                                             "else the local test cluster).")
    parser.add_argument("-n", "--namespace", default="default", help="Namespace for the apps (the guide's: default).")
    parser.add_argument("-i", "--istio-namespace", default="istio-system")
    parser.add_argument("--cleanup", action="store_true", help="Remove everything at the end.")
    parser.add_argument("--cleanup-only", action="store_true", help="Only remove what an earlier run created.")
    args = parser.parse_args()
    # `kill` (or a CI timeout) ends the demo like Ctrl-C: the local istiod and ztunnels stop with it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    local: LocalCluster | None = None
    try:
        if wants_local_cluster(args) and not args.cleanup_only:
            # istiod's and ztunnel's builds (first run only) overlap the Kubernetes build of `tests/cluster up`
            local = LocalCluster(LocalBuilds())
        target = choose_target(args)
        if args.cleanup_only:
            cleanup(target, args.namespace)
            return 0
        run_guide(target, args.namespace, args.istio_namespace, local)
        if args.cleanup:
            cleanup(target, args.namespace)
        else:
            say(f"\nDone. Remove it all with: {sys.argv[0]} --cleanup-only")
            if local:
                say("(the local istiod and ztunnels stop with this script; the cluster keeps the objects)")
        return 0
    except StepFailed as exc:
        say(f"\nFAILED: {exc}")
        return 1
    except OSError as exc:
        say(f"\nFAILED: {exc} (another session may hold the stand-in ports)")
        return 1
    finally:
        if local is not None:
            local.stop()


if __name__ == "__main__":
    sys.exit(main())
