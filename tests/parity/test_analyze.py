"""`analyze` beside `istioctl analyze`: the same codes, levels, resources, file references and exit codes.

Files alone (`--use-kube=false`) for most cases, and one test on a cluster
instance of our own (`analyze_cluster`, state dir `state-analyze`) where both
tools read the same live objects. Messages are compared as facets: object
`<case>/<Kind ns/name>`, key the code, value `level reference`; exit codes as
`<case>` / `exit`. Every difference must be listed in known_differences.yaml
(area `analyze`) with its reason; docs/analyze.md repeats them for users.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from tests.parity.compare import Difference, classify, load_known_differences
from tests.parity.tools import Outcome, ambientctl, istioctl
from tests.support import clusterctl
from tests.support.cluster import Cluster, cluster_instance

AREA = "analyze"
NET = "networking.istio.io/v1"

GATEWAY = {"apiVersion": NET, "kind": "Gateway", "metadata": {"name": "ingress", "namespace": "testing"},
           "spec": {"selector": {"istio": "ingressgateway"},
                    "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                                 "hosts": ["bookinfo.example.com"]}]}}


def _vs(name: str, hosts: list[str], gateways: list[str] | None = None, dest: str = "reviews") -> dict:
    spec: dict = {"hosts": hosts, "http": [{"route": [{"destination": {"host": dest}}]}]}
    if gateways:
        spec["gateways"] = gateways
    return {"apiVersion": NET, "kind": "VirtualService", "metadata": {"name": name, "namespace": "testing"},
            "spec": spec}


def _stream(*objects: dict) -> str:
    return yaml.safe_dump_all(list(objects), sort_keys=False)


NS_AND_PODS = _stream(
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": "testing", "labels": {"istio.io/dataplane-mode": "ambient", "istio-injection": "enabled"}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "mypod", "namespace": "testing",
                                                    "annotations": {"sidecar.istio.io/bogus": "x"}},
     "spec": {"containers": [{"name": "app", "image": "nginx"}]}},
)
L7_POLICY = _stream({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                     "metadata": {"name": "viewer", "namespace": "testing"},
                     "spec": {"selector": {"matchLabels": {"app": "productpage"}},
                              "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}})

# case -> (files: relative path -> text, extra arguments)
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "vs-missing-gateway": ({"vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))}, []),
    "vs-gateway-ok": ({"gw.yaml": _stream(GATEWAY, _vs("vs", ["bookinfo.example.com"], ["ingress"]))}, []),
    "vs-host-not-on-gateway": ({"gw.yaml": _stream(GATEWAY, _vs("vs", ["shop.example.com"], ["ingress"]))}, []),
    "json-file": ({"vs.json": json.dumps(_vs("vs", ["reviews"], ["testing/nope"]))}, []),
    "directory": ({"cfg/a/vs.yaml": _stream(_vs("one", ["reviews"], ["nope"])),
                   "cfg/b/c/vs.yml": _stream(_vs("two", ["ratings"], ["gone"])), "cfg/notes.txt": "x"}, []),
    "namespace-and-pods": ({"ns.yaml": NS_AND_PODS}, []),
    "l7-policy": ({"policy.yaml": L7_POLICY}, []),
    "suppress-exact": ({"vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))},
                       ["-S", "IST0101=VirtualService testing/vs"]),
    "suppress-wildcard": ({"vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))},
                          ["-S", "IST0101=VirtualService *", "-S", "IST0132=*testing*"]),
    "suppress-help-spelling": ({"vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))},
                               ["-S", "IST0101=VirtualService vs.testing"]),
    "suppress-unknown-code": ({"vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))}, ["-S", "IST9999=x"]),
    "output-threshold-error": ({"vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))},
                               ["--output-threshold", "Error"]),
    "failure-threshold-info": ({"gw.yaml": _stream(GATEWAY, _vs("vs", ["shop.example.com"], ["ingress"]))},
                               ["--failure-threshold", "info"]),
    "namespace-default": ({"vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))}, ["-n", "default"]),
    "broken-yaml": ({"bad.yaml": "a: [\n", "vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))}, []),
    "broken-yaml-only": ({"bad.yaml": "a: [\n"}, []),
    "broken-yaml-ignored": ({"bad.yaml": "a: [\n"}, ["--ignore-unknown"]),
    "recursive-flag": ({"vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))}, ["-R"]),
}
# Bad input: only the exit code is compared.
BAD_INPUT: dict[str, list[str]] = {
    "missing-file": ["nothere.yaml"],
    "bad-format": ["vs.yaml", "-o", "xml"],
    "bad-threshold": ["vs.yaml", "--failure-threshold", "Bogus"],
    "bad-timeout": ["vs.yaml", "--timeout", "1x"],
    "bad-suppression": ["vs.yaml", "-S", "IST0101"],
    "bad-use-kube": ["vs.yaml", "--use-kube=maybe"],
    "unknown-flag": ["vs.yaml", "--bogus"],
}


def _write(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _args(folder: Path, files: dict[str, str], extra: list[str]) -> list[str]:
    tops = sorted({rel.split("/")[0] for rel in files})
    return [str(folder / top) for top in tops] + extra


def _facets(case: str, outcome: Outcome, folder: Path) -> dict[tuple[str, str], str]:
    """(object, code) -> `level reference` from a `-o json` run (several messages: joined).

    Lines before the document (istioctl logs a bad file's warning on stdout) are a facet of their own."""
    lines = outcome.stdout.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("[")), len(lines))
    found: dict[tuple[str, str], list[str]] = {}
    if start:
        found[(case, "document")] = ["text before the JSON document"]
    try:
        messages = json.loads("".join(lines[start:]) or "[]")
    except json.JSONDecodeError:
        return {(case, "document"): outcome.stdout[:200]}
    for m in messages:
        reference = (m.get("reference") or "").replace(f"{folder}/", "")
        found.setdefault((f"{case}/{m['origin']}", m["code"]), []).append(f"{m['level']} {reference}".strip())
    return {key: " | ".join(sorted(values)) for key, values in found.items()}


def _compare_case(istioctl_bin: Path, folder: Path, case: str, files: dict[str, str],
                  extra: list[str]) -> list[Difference]:
    base = ["analyze", "--use-kube=false", "-A", *_args(folder, files, extra)]
    if "-n" in extra:
        base.remove("-A")
    differences = []
    theirs_log, ours_log = istioctl(istioctl_bin, *base), ambientctl(*base)
    if theirs_log.exit_code != ours_log.exit_code:
        differences.append(Difference(case, "exit", str(ours_log.exit_code), str(theirs_log.exit_code)))
    theirs_json = istioctl(istioctl_bin, *base, "-o", "json")
    ours_json = ambientctl(*base, "-o", "json")
    if theirs_json.exit_code != ours_json.exit_code:
        differences.append(Difference(case, "exit -o json", str(ours_json.exit_code), str(theirs_json.exit_code)))
    mine, other = _facets(case, ours_json, folder), _facets(case, theirs_json, folder)
    for obj, code in sorted(set(mine) | set(other)):
        a, b = mine.get((obj, code), "<absent>"), other.get((obj, code), "<absent>")
        if a != b:
            differences.append(Difference(obj, code, a, b))
    return differences


def test_files_alone_same_codes_levels_references_and_exit_codes(istioctl_bin, tmp_path):
    differences = []
    for case, (files, extra) in CASES.items():
        folder = tmp_path / case
        folder.mkdir()
        _write(folder, files)
        differences += _compare_case(istioctl_bin, folder, case, files, extra)
    for case, args in BAD_INPUT.items():
        folder = tmp_path / case
        folder.mkdir()
        _write(folder, {"vs.yaml": _stream(_vs("vs", ["reviews"], ["nope"]))})
        argv = ["analyze", "--use-kube=false", *[str(folder / a) if a.endswith(".yaml") else a for a in args]]
        theirs, ours = istioctl(istioctl_bin, *argv), ambientctl(*argv)
        if theirs.exit_code != ours.exit_code:
            differences.append(Difference(f"bad-input/{case}", "exit", str(ours.exit_code), str(theirs.exit_code)))
        assert ours.stderr.startswith("Error: ") and "Traceback" not in ours.stderr, ours
    verdict = classify(differences, [k for k in load_known_differences(AREA) if "-cluster-" not in k.id])
    assert verdict.ok, verdict.report()


def test_the_cases_really_find_issues(istioctl_bin, tmp_path):
    """Guards the comparison against two tools that both print nothing: istioctl finds the VirtualService issues."""
    files, extra = CASES["vs-missing-gateway"]
    _write(tmp_path, files)
    theirs = istioctl(istioctl_bin, "analyze", "--use-kube=false", "-A", *_args(tmp_path, files, extra),
                      "-o", "json")
    assert {m["code"] for m in json.loads(theirs.stdout)} == {"IST0101", "IST0132"}, theirs


# ------------------------------------------------------------------------------------------ cluster

ANALYZE_STATE = os.environ.get("AMBIENTCTL_ANALYZE_CLUSTER_STATE") or clusterctl.instance_state_dir("analyze")


@pytest.fixture(scope="module")
def analyze_cluster() -> Iterator[Cluster]:
    """A test cluster instance of this test's own (other parity tests install Istio on theirs)."""
    yield from cluster_instance(ANALYZE_STATE)


def _pod(name: str, namespace: str, app: str, annotations: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": app},
                         "annotations": annotations or {}},
            "spec": {"containers": [{"name": app, "image": "registry.invalid/app:1"}],
                     "tolerations": [{"operator": "Exists"}]}}


CLUSTER_OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "an-plain"}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "an-legacy", "labels": {"istio-injection": "enabled"}}},
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": "an-mixed", "labels": {"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"}}},
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": "an-ambient", "labels": {"istio.io/dataplane-mode": "ambient"}}},
    _pod("web-1", "an-legacy", "web"),
    _pod("unknown-annotation", "an-ambient", "shop", {"sidecar.istio.io/bogus": "x"}),
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop", "namespace": "an-ambient"},
     "spec": {"selector": {"app": "shop"}, "ports": [{"name": "web", "port": 8080}]}},
    {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
     "metadata": {"name": "typo", "namespace": "an-ambient"},
     "spec": {"selector": {"matchLabels": {"app": "shoop"}},
              "rules": [{"from": [{"source": {"namespaces": ["an-ghost"]}}]}]}},
    {"apiVersion": NET, "kind": "VirtualService", "metadata": {"name": "routes", "namespace": "an-ambient"},
     "spec": {"hosts": ["shop"], "http": [{"route": [{"destination": {"host": "shop-v2"}}]}]}},
]


def _apply_all(kubeconfig: str) -> None:
    """Istio's CRDs (from our own render) and the objects above, through ambientctl's client."""
    from ambientctl.kube.client import KubeClient
    from ambientctl.render import render

    kube = KubeClient.connect(kubeconfig, None)
    crds = [o for o in render(profile="ambient").all_objects() if o.get("kind") == "CustomResourceDefinition"]
    for crd in crds:
        kube.apply(crd, force=True)
    kube.wait_crds_established([c["metadata"]["name"] for c in crds], timeout=60)
    for obj in CLUSTER_OBJECTS:
        kube.apply(obj, force=True)


def _delete_namespaces(kubeconfig: str) -> None:
    """Leave the instance as found: other tests run on it (precheck warns about an injected namespace)."""
    from ambientctl.kube.client import KubeClient

    kube = KubeClient.connect(kubeconfig, None)
    for obj in CLUSTER_OBJECTS:
        if obj["kind"] == "Namespace":
            kube.delete("v1", "Namespace", obj["metadata"]["name"])


@pytest.fixture
def analyze_objects(analyze_cluster):
    _apply_all(analyze_cluster.kubeconfig)
    yield analyze_cluster.kubeconfig
    _delete_namespaces(analyze_cluster.kubeconfig)


def test_same_cluster_same_codes(istioctl_bin, analyze_objects):
    kubeconfig = analyze_objects
    argv = ["analyze", "-A", "-o", "json"]
    theirs = istioctl(istioctl_bin, *argv, kubeconfig=kubeconfig, timeout=120)
    ours = ambientctl(*argv, kubeconfig=kubeconfig)
    assert theirs.stdout.strip().startswith("["), theirs
    assert ours.stdout.strip().startswith("["), ours
    differences = []
    mine = {(f"cluster/{k[0].split('/', 1)[1]}", k[1]): v for k, v in _facets("x", ours, Path("/")).items()}
    other = {(f"cluster/{k[0].split('/', 1)[1]}", k[1]): v for k, v in _facets("x", theirs, Path("/")).items()}
    for obj, code in sorted(set(mine) | set(other)):
        if not obj.startswith("cluster/") or not any(f" {n}" in obj or f"{n}/" in obj for n in
                                                     ("an-plain", "an-legacy", "an-mixed", "an-ambient")):
            continue  # other namespaces hold other tests' objects
        a, b = mine.get((obj, code), "<absent>"), other.get((obj, code), "<absent>")
        if a != b:
            differences.append(Difference(obj, code, a, b))
    for namespace in ("an-legacy", "an-ambient", "an-nowhere"):
        log_theirs = istioctl(istioctl_bin, "-n", namespace, "analyze", kubeconfig=kubeconfig, timeout=120)
        log_ours = ambientctl("-n", namespace, "analyze", kubeconfig=kubeconfig)
        if log_theirs.exit_code != log_ours.exit_code:
            differences.append(Difference(f"cluster/-n {namespace}", "exit", str(log_ours.exit_code),
                                          str(log_theirs.exit_code)))
    verdict = classify(differences, [k for k in load_known_differences(AREA) if "-cluster-" in k.id])
    assert verdict.ok, verdict.report()
    assert {("cluster/Pod an-legacy/web-1", "IST0103"), ("cluster/Namespace an-plain", "IST0102")} <= set(other)
