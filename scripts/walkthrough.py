#!/usr/bin/env python3
"""The guide's steps 1 to 11 through the `ambientctl` CLI, printing each command and its output.

`make demo` runs this after scripts/setup.sh. Which cluster:

* `--kubeconfig PATH`, `KUBECONFIG`, or `CLUSTER` (a kubeconfig path, or a context name of your
  kubeconfig): your cluster. Everything runs for real; the parts that only exist for the local test
  cluster (stand-in admin/stats servers, a stand-in for istiod's waypoint controller) are skipped, and
  the script says so.
* none of these: the local test cluster (`tests/cluster up`, kube-apiserver + kwok). Its pods are
  simulated, so the script serves ztunnel's certificate dump (step 6) and the waypoint's metrics
  (step 10) from in-process stand-ins, and programs waypoints the way istiod would (step 8).

Exits non-zero at the first failing step. `--cleanup` removes everything at the end.
"""

from __future__ import annotations

import argparse
import os
import shlex
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
    up = subprocess.run([str(REPO / "tests" / "cluster"), "up", "--instance", "demo"], capture_output=True, text=True,
                        cwd=REPO)
    last = (up.stdout.strip().splitlines() or [""])[-1]
    if up.returncode != 0 or not last.startswith("KUBECONFIG="):
        sys.stdout.write(up.stderr[-3000:])
        raise StepFailed("tests/cluster up failed")
    kubeconfig = last.split("=", 1)[1]
    env["KUBECONFIG"] = kubeconfig
    return Target(["-c", kubeconfig], env, local=True, kubeconfig=kubeconfig)


class LocalStandIns:
    """What the local cluster's simulated pods cannot do: admin/stats ports and istiod's waypoint controller."""

    def __init__(self, kubeconfig: str, namespace: str) -> None:
        from kubernetes import config

        from tests.support.cluster import Cluster
        from tests.support.standin import StandIn

        cluster = Cluster.from_state(str(Path(kubeconfig).parent))
        self.servers = {port: StandIn(local).start() for port, local in cluster.standin_ports.items()}
        self.api = config.new_client_from_config(config_file=kubeconfig)
        self.namespace = namespace
        self.programmer = None

    def serve_certificate(self) -> None:
        from tests.support import dumpgen

        self.servers[15000].set_config_dump(dumpgen.generate_dump([(self.namespace, "sleep")]))

    def serve_metrics(self) -> None:
        from tests.unit.test_metrics import series, stats_text

        self.servers[15020].set_stats(stats_text([series("sleep", 200, 10, namespace=self.namespace),
                                                  series("notsleep", 403, 4, namespace=self.namespace)]))

    def program_waypoints(self) -> None:
        from tests.e2e.test_walkthrough import WaypointProgrammer

        self.programmer = WaypointProgrammer(self.api, self.namespace).start()

    def stop(self) -> None:
        if self.programmer is not None:
            self.programmer.close()
        for server in self.servers.values():
            server.stop()


# ------------------------------------------------------------------------------------ the steps


def run_guide(target: Target, ns: str, istio_ns: str, local: LocalStandIns | None) -> None:
    def skipped(what: str) -> None:
        say(f"(your cluster: {what} is left out; it only exists for the local test cluster)")

    banner(1, "does the cluster fit?")
    ambientctl(target, "x", "precheck")

    banner(2, "install the ambient profile")
    ambientctl(target, "install", "--set", "profile=ambient", "-y")

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
        local.serve_certificate()
    else:
        skipped("serving a generated certificate dump")
    shell(target,
          f"ambientctl pc secret ds/ztunnel -n {istio_ns} -o json | jq -r '{JQ_FILTER}' | base64 --decode "
          "| openssl x509 -noout -text",
          f"{shlex.quote(AMBIENTCTL)} {' '.join(map(shlex.quote, target.flags))} pc secret ds/ztunnel "
          f"-n {istio_ns} -o json | jq -r '{JQ_FILTER}' | base64 --decode | openssl x509 -noout -text")

    banner(7, "L4 policy: only sleep, the ingress gateway and productpage's waypoint reach productpage")
    ambientctl(target, "x", "authz", "allow", "--to", "app=productpage", "--from", "sa/sleep",
               "--from", f"sa/{istio_ns}/istio-ingressgateway-service-account",
               "--from", f"sa/{PRODUCTPAGE_WAYPOINT}", "--name", "productpage-viewer", "-n", ns, "--apply")

    banner(8, "a waypoint for productpage")
    if local:
        local.program_waypoints()
        say("(local cluster: a stand-in plays istiod's waypoint controller: Deployment + Programmed)")
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
        local.serve_metrics()
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


def cleanup(target: Target, ns: str) -> None:
    say("\n=== Cleanup")
    ambientctl(target, "waypoint", "delete", "--all", "-n", ns, check=False)
    ambientctl(target, "samples", "delete", "bookinfo", "bookinfo-gateway", "sleep", "notsleep", "reviews-90-10",
               "-n", ns, check=False)
    ambientctl(target, "dataplane", "unenroll", ns, "--force", check=False)
    ambientctl(target, "uninstall", "--purge", "--force", "-y")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubeconfig", help="Your cluster's kubeconfig (default: $KUBECONFIG, $CLUSTER, "
                                             "else the local test cluster).")
    parser.add_argument("-n", "--namespace", default="default", help="Namespace for the apps (the guide's: default).")
    parser.add_argument("-i", "--istio-namespace", default="istio-system")
    parser.add_argument("--cleanup", action="store_true", help="Remove everything at the end.")
    parser.add_argument("--cleanup-only", action="store_true", help="Only remove what an earlier run created.")
    args = parser.parse_args()
    local: LocalStandIns | None = None
    try:
        target = choose_target(args)
        if args.cleanup_only:
            cleanup(target, args.namespace)
            return 0
        if target.local:
            local = LocalStandIns(target.kubeconfig or "", args.namespace)
        run_guide(target, args.namespace, args.istio_namespace, local)
        if args.cleanup:
            cleanup(target, args.namespace)
        else:
            say(f"\nDone. Remove it all with: {sys.argv[0]} --cleanup-only")
        return 0
    except StepFailed as exc:
        say(f"\nFAILED: {exc}")
        return 1
    except OSError as exc:
        say(f"\nFAILED: {exc} (another test session may hold the stand-in ports)")
        return 1
    finally:
        if local is not None:
            local.stop()


if __name__ == "__main__":
    sys.exit(main())
