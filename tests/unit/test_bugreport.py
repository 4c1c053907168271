"""bug-report without a cluster: istioctl's selection specs, time ranges, redaction, the size bound,
and a whole run against a fake cluster where some pods cannot be reached (a partial archive, never a traceback).
The real path (API server, kwok, logs, port-forwards) is tests/e2e/test_bugreport.py."""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile
import time

import pytest

from ambientctl.bugreport import collect, create, sources
from ambientctl.bugreport.archive import LOGS, Archive
from ambientctl.bugreport.collect import Options
from ambientctl.bugreport.redact import REDACTED, redact_document, redact_text, secret_rows
from ambientctl.bugreport.selection import PodInfo, Selection, line_time, parse_spec, time_range
from ambientctl.errors import ApiServerError, ClusterUnreachableError, InvalidInputError
from tests.support.cli import invoke

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _pod(ns, name, labels=None, containers=("main",), owner=None, annotations=None, node="ambient-worker"):
    meta = {"namespace": ns, "name": name, "labels": labels or {}, "annotations": annotations or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1]}]
    return {"metadata": meta, "spec": {"nodeName": node, "containers": [{"name": c, "image": f"img/{c}:1"}
                                                                         for c in containers]}}


# ------------------------------------------------------------------------------------------- selection

def test_specs_follow_istioctls_six_parts():
    spec = parse_spec("bookinfo,n*/reviews/p*/app=rev*,version/inject=true/istio-proxy")
    assert spec.namespaces == ("bookinfo", "n*")
    assert spec.workloads == ("reviews",) and spec.pods == ("p*",)
    assert spec.labels == (("app", "rev*"), ("version", "*"))
    assert spec.annotations == (("inject", "true"),)
    assert spec.containers == ("istio-proxy",)
    assert parse_spec("ns1//pod1").pods == ("pod1",) and parse_spec("*").namespaces == ()


@pytest.mark.parametrize("text", ["a/b/c/d/e/f/g", "ns/*/*/ap*=x", "ns////sidecar.istio.io/inject=true"])
def test_bad_specs_are_refused_with_the_format(text):
    with pytest.raises(InvalidInputError) as err:
        parse_spec(text)
    assert "ns1,ns2/workload/pod" in err.value.hint


def test_include_and_exclude_decide_per_container_and_system_namespaces_are_left_out():
    reviews = PodInfo.of(_pod("bookinfo", "reviews-v1-abc-123", {"app": "reviews"}, ("reviews", "istio-proxy"),
                              owner=("ReplicaSet", "reviews-v1-abc")))
    assert reviews.workload == "reviews-v1"
    selection = Selection.parse(["bookinfo/reviews-*"], ["bookinfo/*/*/*/*/istio-proxy"])
    assert selection.containers(reviews) == ["reviews"]
    assert not Selection.parse(["other"], []).pod(reviews)
    assert Selection.parse([], []).containers(reviews) == ["reviews", "istio-proxy"]
    assert not Selection.parse([], []).pod(PodInfo.of(_pod("kube-system", "coredns")))
    ztunnel = PodInfo.of(_pod("istio-system", "ztunnel-x", {"app": "ztunnel"}, ("istio-proxy",),
                              owner=("DaemonSet", "ztunnel")))
    assert Selection.parse(["istio-system/ztunnel"], []).pod(ztunnel)  # workloads match DaemonSets too


def test_whole_namespace_exclusions_also_scope_objects_and_events():
    selection = Selection.parse([], ["secret-team", "bookinfo//reviews*"])
    assert not selection.namespace("secret-team")
    assert selection.namespace("bookinfo")  # only some pods of it are left out
    assert not selection.namespace("kube-system")
    assert not Selection.parse(["bookinfo"], []).namespace("default")


def test_time_flags_follow_istioctl():
    span = time_range(None, "2026-11-28T11:00:00Z", 1800, NOW)
    assert span.start == dt.datetime(2026, 11, 28, 10, 30, tzinfo=UTC) and span.end_given
    assert time_range("2026-11-28T10:00:00+01:00", None, None, NOW).start == dt.datetime(2026, 11, 28, 9, tzinfo=UTC)
    assert time_range(None, None, None, NOW).since_seconds(NOW) is None
    with pytest.raises(InvalidInputError, match="only one of --start-time and --duration"):
        time_range("2026-11-28T10:00:00Z", None, 60, NOW)
    with pytest.raises(InvalidInputError, match="not an RFC 3339 time"):
        time_range("yesterday", None, None, NOW)
    with pytest.raises(InvalidInputError, match="after --end-time"):
        time_range("2026-11-28T13:00:00Z", "2026-11-28T12:30:00Z", None, NOW)
    assert line_time("2026-11-28T10:00:00.123456789Z hello") == dt.datetime(2026, 11, 28, 10, 0, 0, 123456,
                                                                            tzinfo=UTC)
    assert line_time("no stamp here") is None


# ------------------------------------------------------------------------------------------- redaction

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlc2lnbmF0dXJl"
KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----"


def test_text_loses_keys_tokens_and_password_values():
    text = (f"key {KEY} token={JWT}\nAuthorization: Bearer abcdefghijkl123\n"
            '{"password": "hunter2hunter2", "secretName": "istio-ca-secret", "client_secret": "s3cr3tvalue"}')
    out = redact_text(text)
    for secret in ("MHcCAQEEIBkg", JWT, "abcdefghijkl123", "hunter2hunter2", "s3cr3tvalue"):
        assert secret not in out
    assert "istio-ca-secret" in out and REDACTED in out


def test_documents_lose_secret_fields_managed_fields_and_last_applied():
    obj = {"metadata": {"name": "x", "managedFields": [{"manager": "kubectl"}],
                        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data": "x"}'}},
           "spec": {"token": "abc", "tokenPath": "/var/run/token", "secretName": "cacerts",
                    "env": [{"name": "GITHUB_TOKEN", "value": "ghp_x"}, {"name": "LOG_LEVEL", "value": "info"}]}}
    redact_document(obj)
    assert obj["spec"].pop("env") == [{"name": "GITHUB_TOKEN", "value": REDACTED}, {"name": "LOG_LEVEL", "value": "info"}]
    assert "managedFields" not in obj["metadata"]
    assert obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == REDACTED
    assert obj["spec"] == {"token": REDACTED, "tokenPath": "/var/run/token", "secretName": "cacerts"}
    rows = secret_rows([{"metadata": {"namespace": "istio-system", "name": "cacerts"}, "type": "Opaque",
                         "data": {"ca-key.pem": "c2VjcmV0", "ca-cert.pem": "Y2VydA=="}}])
    assert rows == [["istio-system", "cacerts", "Opaque", "ca-cert.pem,ca-key.pem"]]


# ---------------------------------------------------------------------------------------------- archive

def test_the_size_bound_cuts_logs_first_and_keeps_the_summary(tmp_path):
    archive = Archive(max_bytes=3000)
    archive.add("cluster/nodes.txt", "n" * 1000, 1)
    archive.add("ztunnel/node/pod/ztunnel.log", "l" * 5000, LOGS)
    archive.add("istiod/x/discovery.log", "d" * 5000, LOGS)
    cut = archive.fit(reserved=500)
    assert cut == ["istiod/x/discovery.log (cut to 1442 bytes)", "ztunnel/node/pod/ztunnel.log (left out)"]
    archive.put_final("summary.txt", "summary")
    archive.write(str(tmp_path / "r.tar.gz"))
    with tarfile.open(tmp_path / "r.tar.gz") as tar:
        names = tar.getnames()
        assert sorted(names) == ["bug-report/cluster/nodes.txt", "bug-report/istiod/x/discovery.log",
                                 "bug-report/summary.txt"]
        assert tar.extractfile("bug-report/istiod/x/discovery.log").read().endswith(b"--max-size reached]\n")
    assert (tmp_path / "r.tar.gz").stat().st_mode & 0o777 == 0o600


# ----------------------------------------------------------------------------------- a whole run (fake)

class FakeKube:
    """Answers the lists and GETs bug-report makes, from canned objects."""

    timeout = 5.0
    context_name = "fake"
    server = "https://127.0.0.1:6443"
    request_count = 0

    def __init__(self, pods, unreachable_version=False):
        self.pods = pods
        self.unreachable_version = unreachable_version

    def server_version(self):
        if self.unreachable_version:
            raise ClusterUnreachableError("cluster unreachable at https://127.0.0.1:6443 (context fake)")
        return {"gitVersion": "v1.36.3", "platform": "linux/amd64"}

    def list(self, api_version, kind, namespace=None, *, all_namespaces=False, label_selector=None,
             field_selector=None):
        if kind == "Pod":
            pods = [p for p in self.pods if all_namespaces or p["metadata"]["namespace"] == namespace]
            if label_selector:
                key, _, value = label_selector.partition("=")
                pods = [p for p in pods if key in p["metadata"]["labels"]
                        and (not value or p["metadata"]["labels"][key] == value)]
            return pods
        if kind == "Node":
            return [{"metadata": {"name": "ambient-worker"}, "status": {
                "nodeInfo": {"kubeletVersion": "v1.36.3", "osImage": "kwok"},
                "conditions": [{"type": "Ready", "status": "True"}], "images": [{"names": ["big"]}]}}]
        if kind == "Secret":
            return [{"metadata": {"namespace": namespace, "name": "istio-ca-secret"}, "type": "istio.io/ca-root",
                     "data": {"ca-key.pem": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t"}}]
        if kind == "Event":
            return [{"metadata": {"namespace": "istio-system", "name": "e1"}, "type": "Warning", "reason": "BackOff",
                     "lastTimestamp": "2026-11-28T11:59:00Z", "involvedObject": {"kind": "Pod", "name": "ztunnel-a"},
                     "message": f"pulling with token={JWT}"},
                    {"metadata": {"namespace": "kube-system", "name": "e2"}, "type": "Normal", "reason": "Hidden",
                     "lastTimestamp": "2026-11-28T11:59:00Z", "involvedObject": {"kind": "Pod", "name": "dns"}}]
        if kind == "Gateway":
            return [{"metadata": {"namespace": "bookinfo", "name": "waypoint"},
                     "spec": {"gatewayClassName": "istio-waypoint"}}]
        return []

    def request(self, method, path, **kwargs):
        if path == "/apis":
            return {"groups": [{"name": "security.istio.io", "preferredVersion": {"groupVersion": "security.istio.io/v1"}},
                               {"name": "apps", "preferredVersion": {"groupVersion": "apps/v1"}}]}
        if path == "/apis/security.istio.io/v1":
            return {"resources": [{"name": "authorizationpolicies", "kind": "AuthorizationPolicy", "namespaced": True,
                                   "verbs": ["get", "list"]}]}
        if path == "/apis/security.istio.io/v1/authorizationpolicies":
            return {"items": [{"metadata": {"namespace": "bookinfo", "name": "allow", "managedFields": [{}]}},
                              {"metadata": {"namespace": "kube-system", "name": "hidden"}}]}
        raise AssertionError(path)


MESH_PODS = [
    _pod("istio-system", "istiod-1", {"app": "istiod"}, ("discovery",), owner=("ReplicaSet", "istiod-5d4")),
    _pod("istio-system", "ztunnel-a", {"app": "ztunnel"}, ("istio-proxy",), owner=("DaemonSet", "ztunnel")),
    _pod("istio-system", "ztunnel-b", {"app": "ztunnel"}, ("istio-proxy",), owner=("DaemonSet", "ztunnel"),
         node="ambient-worker2"),
    _pod("istio-system", "istio-cni-node-a", {"k8s-app": "istio-cni-node"}, ("install-cni",)),
    _pod("bookinfo", "waypoint-abc", {"gateway.networking.k8s.io/gateway-name": "waypoint"}, ("istio-proxy",)),
]


def _options(**kw):
    base = dict(istio_namespace="istio-system", selection=Selection.parse([], []),
                times=time_range(None, None, None, NOW), timeout=30, max_bytes=10 * 1024 * 1024)
    base.update(kw)
    return Options(**base)


class _Quiet:
    def __init__(self):
        self.results = []

    def start(self, total):
        self.total = total

    def done(self, result):
        self.results.append(result)


@pytest.fixture
def fake_sources(monkeypatch):
    """ztunnel-b's admin port and the waypoint cannot be reached; every log works; istiod answers /debug."""
    calls = []

    def http_get(kube, namespace, pod, port, path, timeout):
        calls.append((pod, port, path))
        if pod in ("ztunnel-b", "waypoint-abc"):
            raise ApiServerError(f"port-forward to {namespace}/{pod}:{port} failed: connection refused")
        if pod == "istiod-1":
            return json.dumps({"path": path, "token": "abcdef123456"}).encode()
        return json.dumps({"certificates": [], "workloads": [], "services": [], "policies": [],
                           "note": KEY}).encode()

    def pod_log(kube, namespace, pod, container, *, since_seconds, limit_bytes, timeout, tail_lines=None):
        calls.append((pod, container, tail_lines))
        return (f"2026-11-28T11:00:00.000000000Z {pod} started\n"
                f"2026-11-28T11:30:00.000000000Z auth header Bearer sometokenvalue99\n").encode()

    monkeypatch.setattr(sources, "http_get", http_get)
    monkeypatch.setattr(sources, "pod_log", pod_log)
    monkeypatch.setattr(sources, "analyze_lines", lambda kube, ns: "Warning [AMB0002] (Namespace bookinfo) x\n")
    return calls


def _read(path):
    with tarfile.open(path) as tar:
        return {m.name.removeprefix("bug-report/"): tar.extractfile(m).read().decode() for m in tar.getmembers()}


def test_unreachable_pods_give_a_partial_archive_and_a_summary(tmp_path, fake_sources):
    progress = _Quiet()
    report = create(FakeKube(MESH_PODS), _options(), str(tmp_path / "bug-report.tar.gz"), "0.1", progress,
                    ["time range: all"])
    files = _read(tmp_path / "bug-report.tar.gz")
    assert {"summary.txt", "summary.json", "cluster/versions.json", "cluster/nodes.txt", "cluster/events.txt",
            "cluster/secrets.txt", "analyze.txt", "istiod/istiod-1/debug/syncz.json",
            "ztunnel/ambient-worker/ztunnel-a/config_dump.json", "ztunnel/ambient-worker/ztunnel-a/certificates.txt",
            "ztunnel/ambient-worker2/ztunnel-b/istio-proxy.log", "cni/ambient-worker/istio-cni-node-a/install-cni.log",
            "waypoints/bookinfo/waypoint-abc/istio-proxy.log",
            "objects/security.istio.io/authorizationpolicies.yaml"} <= set(files)
    assert "ztunnel/ambient-worker2/ztunnel-b/config_dump.json" not in files
    summary = files["summary.txt"]
    assert "Failed (not in the archive):" in summary
    assert "ztunnel config dump istio-system/ztunnel-b (node ambient-worker2): port-forward" in summary
    assert "waypoint config dump bookinfo/waypoint-abc" in summary
    assert len(report.failed) == 2 and len(progress.results) == len(report.results)
    assert "v1.36.3" in files["cluster/nodes.txt"] and "big" not in files["cluster/nodes.yaml"]
    assert "hidden" not in files["objects/security.istio.io/authorizationpolicies.yaml"]  # kube-system left out
    assert "BackOff" in files["cluster/events.txt"] and "Hidden" not in files["cluster/events.txt"]
    assert ("istiod-1", 15014, "/debug/syncz") in fake_sources
    everything = "".join(files.values())
    for secret in ("MHcCAQEEIBkg", JWT, "sometokenvalue99", "abcdef123456", "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t"):
        assert secret not in everything, secret


def test_an_unreachable_cluster_writes_no_archive(tmp_path):
    with pytest.raises(ClusterUnreachableError):
        create(FakeKube([], unreachable_version=True), _options(), str(tmp_path / "r.tar.gz"), "0.1", _Quiet(), [])
    assert not (tmp_path / "r.tar.gz").exists()


def test_the_timeout_writes_what_arrived_and_names_what_did_not(tmp_path, fake_sources, monkeypatch):
    def slow_log(kube, namespace, pod, container, **kw):
        if pod == "ztunnel-a":
            time.sleep(5)
        return b"2026-11-28T11:00:00Z line\n"

    monkeypatch.setattr(sources, "pod_log", slow_log)
    started = time.monotonic()
    report = create(FakeKube(MESH_PODS), _options(timeout=1.5), str(tmp_path / "r.tar.gz"), "0.1", _Quiet(), [])
    assert time.monotonic() - started < 4
    unfinished = [r.title for r in report.results if not r.finished]
    assert unfinished == ["ztunnel log istio-system/ztunnel-a (istio-proxy)"]
    assert "not finished within --timeout (1.5s)" in _read(tmp_path / "r.tar.gz")["summary.txt"]


def test_end_time_cuts_log_lines_after_it(tmp_path, fake_sources):
    times = time_range(None, "2026-11-28T11:15:00Z", None, NOW)
    create(FakeKube(MESH_PODS[:1]), _options(times=times), str(tmp_path / "r.tar.gz"), "0.1", _Quiet(), [])
    log = _read(tmp_path / "r.tar.gz")["istiod/istiod-1/discovery.log"]
    assert "started" in log and "auth header" not in log


def test_istioctls_skip_flags_leave_out_their_parts_and_tail_limits_logs(tmp_path, fake_sources):
    options = _options(skip=frozenset({"cluster-dump", "analyze", "proxy-debug"}), tail_lines=100)
    create(FakeKube(MESH_PODS), options, str(tmp_path / "r.tar.gz"), "0.1", _Quiet(), [])
    files = _read(tmp_path / "r.tar.gz")
    assert not [f for f in files if f.startswith("objects/") or f.endswith("config_dump.json")]
    assert "analyze.txt" not in files and "cluster/events.txt" not in files
    assert "cluster/nodes.txt" in files and "istiod/istiod-1/debug/syncz.json" in files
    assert ("ztunnel-a", "istio-proxy", 100) in fake_sources


def test_pods_are_found_by_istioctls_labels_too():
    classes = {("bookinfo", "waypoint")}
    assert collect.classify(_pod("istio-system", "istiod-x", {"istio": "pilot"}), "istio-system", classes) == "istiod"
    assert collect.classify(_pod("istio-system", "z", {}, ("istio-proxy", "ztunnel")), "istio-system", {}) == "ztunnel"
    assert collect.classify(_pod("istio-system", "c", {}, ("install-cni",)), "istio-system", {}) == "cni"
    gw = {"gateway.networking.k8s.io/gateway-name": "ingress"}
    assert collect.classify(_pod("bookinfo", "i", gw, ("istio-proxy",)), "istio-system", classes) == "gateway"
    assert collect.classify(_pod("bookinfo", "app", {}, ("app", "istio-proxy")), "istio-system", {}) == "sidecar"
    assert collect.classify(_pod("bookinfo", "app", {}, ("app",)), "istio-system", {}) is None


@pytest.mark.parametrize(("argv", "message"), [
    (["--include", "a/b/c/d/e/f/g"], "at most 6"),
    (["--start-time", "noon"], "not an RFC 3339 time"),
    (["--timeout", "soon"], "'soon' for --timeout"),
    (["--timeout", "0"], "must be at least 1s"),
    (["--full-secrets"], "never puts secret values in an archive"),
    (["--duration", "1h", "--start-time", "2026-11-28T10:00:00Z"], "only one of --start-time and --duration"),
])
def test_bad_flags_are_one_line_errors_before_any_cluster_call(argv, message):
    result = invoke("--kubeconfig", "/nonexistent", "bug-report", *argv)
    assert result.exit_code == 11, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise():
    from rich.console import Console

    from ambientctl.bugreport.collect import Result
    from ambientctl.cli.bugreport import _progress
    from ambientctl.context import CliContext

    for terminal in (True, False):
        buffer = io.StringIO()
        cli = CliContext()
        cli.__dict__["err"] = Console(file=buffer, force_terminal=terminal, width=120)
        with _progress(cli) as progress:
            progress.start(2)
            progress.done(Result("istiod log istio-system/istiod-1 (discovery)"))
            progress.done(Result("ztunnel config dump istio-system/ztunnel-b", ok=False, problems=["refused"]))
        text = buffer.getvalue()
        if terminal:
            assert "\x1b[" in text and "Collecting" in text  # a live bar (cleared when done)
        else:
            assert text.splitlines() == ["Collecting 2 parts ...",
                                         "[1/2] ✔ istiod log istio-system/istiod-1 (discovery)",
                                         "[2/2] ✘ ztunnel config dump istio-system/ztunnel-b: refused"]


def test_bool_flags_take_istioctls_value_form():
    result = invoke("--kubeconfig", "/nonexistent", "bug-report", "--dry-run=true", "--skip-analyze=false")
    assert result.exit_code == 6, result.stderr  # parsed; stopped at the missing kubeconfig
