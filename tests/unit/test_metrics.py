"""waypoint metrics: Prometheus text from a waypoint becomes the guide's step-10 table (403 notsleep, 200 sleep)."""

from __future__ import annotations

import json

import pytest

from ambientctl.waypoint import metrics as mx
from ambientctl.errors import ExitCode, InvalidInputError
from tests.support.fakekube import FakeKube, invoke_with


def series(source: str, code: int, value: float, *, namespace: str = "default", dest: str = "productpage",
           reporter: str = "waypoint", security: str = "mutual_tls") -> dict:
    return {"source": source, "code": code, "value": value, "namespace": namespace, "dest": dest,
            "reporter": reporter, "security": security}


def stats_text(rows: list[dict], extra: str = "") -> str:
    """Waypoint-shaped /stats/prometheus text: istio_requests_total plus unrelated families."""
    lines = ["# TYPE istio_requests_total counter"]
    for r in rows:
        labels = {
            "reporter": r["reporter"], "source_workload": r["source"], "source_workload_namespace": r["namespace"],
            "source_principal": f"spiffe://cluster.local/ns/{r['namespace']}/sa/{r['source']}",
            "source_app": r["source"], "destination_workload": f"{r['dest']}-v1",
            "destination_workload_namespace": r["namespace"],
            "destination_service": f"{r['dest']}.{r['namespace']}.svc.cluster.local",
            "destination_service_name": r["dest"], "request_protocol": "http", "response_code": str(r["code"]),
            "response_flags": "-", "connection_security_policy": r["security"],
        }
        text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        lines.append(f"istio_requests_total{{{text}}} {r['value']}")
    lines += ["# TYPE istio_request_bytes histogram",
              'istio_request_bytes_bucket{le="+Inf",response_code="200"} 4',
              'istio_request_bytes_sum{response_code="200"} 100', 'istio_request_bytes_count{response_code="200"} 4',
              "# TYPE envoy_server_uptime gauge", "envoy_server_uptime 42"]
    return "\n".join(lines) + "\n" + extra


GUIDE = stats_text([series("sleep", 200, 10), series("notsleep", 403, 3), series("sleep", 403, 1)])


def test_parse_sums_by_row_and_ignores_other_families() -> None:
    doubled = stats_text([series("sleep", 200, 10), series("sleep", 200, 5, reporter="destination")])
    totals = mx.parse_requests(doubled)
    assert list(totals.values()) == [15.0]
    [key] = totals
    assert key.source == "sleep.default" and key.response_code == "200"
    assert key.source_principal == "spiffe://cluster.local/ns/default/sa/sleep"


def test_records_follow_the_guide() -> None:
    rows = mx.records(mx.parse_requests(GUIDE))
    assert [(r["source"], r["responseCode"], r["requests"], r["connectionSecurityPolicy"]) for r in rows] == [
        ("notsleep.default", "403", 3, "mutual_tls"),
        ("sleep.default", "200", 10, "mutual_tls"),
        ("sleep.default", "403", 1, "mutual_tls"),
    ]


def test_deltas_between_refreshes() -> None:
    before = mx.parse_requests(stats_text([series("sleep", 200, 10)]))
    after = mx.parse_requests(stats_text([series("sleep", 200, 14), series("notsleep", 403, 2)]))
    deltas = [(r["source"], r["new"]) for r in mx.records(after, before)]
    assert deltas == [("notsleep.default", 2), ("sleep.default", 4)]


def test_merge_adds_pods() -> None:
    one = mx.parse_requests(stats_text([series("sleep", 200, 1)]))
    assert list(mx.merge([one, one]).values()) == [2.0]


def test_garbage_is_an_invalid_input_error() -> None:
    with pytest.raises(InvalidInputError, match="not Prometheus text"):
        mx.parse_requests("istio_requests_total{oops 1\n")


def test_missing_prometheus_client_is_a_clear_error(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_prometheus(name, *args, **kwargs):
        if name.startswith("prometheus_client"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_prometheus)
    with pytest.raises(mx.MetricsDependencyError, match="prometheus-client"):
        mx.parse_requests(GUIDE)


# --------------------------------------------------------------------------- the command, on a fake cluster


def waypoint_pod(name: str, waypoint: str = "productpage", phase: str = "Running") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                         "labels": {"gateway.networking.k8s.io/gateway-name": waypoint}}, "status": {"phase": phase}}


@pytest.fixture
def served(monkeypatch):
    """http_get answers from a dict pod -> text, and records what it was asked."""
    from ambientctl.kube import portforward

    answers: dict[str, list[str]] = {}
    calls: list[tuple] = []

    def fake_http_get(kube, pod, namespace, port, path, timeout=None):
        calls.append((pod, namespace, port, path))
        texts = answers[pod]
        return (texts.pop(0) if len(texts) > 1 else texts[0]).encode()

    monkeypatch.setattr(portforward, "http_get", fake_http_get)
    monkeypatch.setattr("time.sleep", lambda s: None)
    return answers, calls


def run(fake, *args):
    return tuple(invoke_with(fake, *args))


def test_command_prints_the_table_from_every_pod(served) -> None:
    answers, calls = served
    answers["wp-a"] = [GUIDE]
    answers["wp-b"] = [stats_text([series("sleep", 200, 5)])]
    fake = FakeKube([waypoint_pod("wp-a"), waypoint_pod("wp-b"), waypoint_pod("wp-c", phase="Pending"),
                     waypoint_pod("other", waypoint="reviews")])
    code, out, err = run(fake, "waypoint", "metrics", "productpage", "-n", "default")
    assert code == 0, err
    assert calls == [("wp-a", "default", 15020, "/stats/prometheus"), ("wp-b", "default", 15020, "/stats/prometheus")]
    lines = out.splitlines()
    assert lines[0].split() == ["SOURCE", "SOURCE", "PRINCIPAL", "DESTINATION", "SERVICE", "DESTINATION", "WORKLOAD",
                                "CODE", "SECURITY", "REQUESTS"]
    assert lines[1].split() == ["notsleep.default", "spiffe://cluster.local/ns/default/sa/notsleep",
                                "productpage.default.svc.cluster.local", "productpage-v1", "403", "mutual_tls", "3"]
    assert lines[2].split()[0::4] == ["sleep.default", "200"] and lines[2].split()[-1] == "15"


def test_command_json_and_x_alias(served) -> None:
    answers, _ = served
    answers["wp-a"] = [GUIDE]
    code, out, _ = run(FakeKube([waypoint_pod("wp-a")]), "x", "metrics", "productpage", "-o", "json")
    assert code == 0
    document = json.loads(out)
    assert document["waypoint"] == "default/productpage"
    assert {(r["source"], r["responseCode"]) for r in document["requests"]} == {
        ("notsleep.default", "403"), ("sleep.default", "200"), ("sleep.default", "403")}


def test_watch_without_a_terminal_prints_one_table_per_refresh(served) -> None:
    answers, _ = served
    answers["wp-a"] = [stats_text([series("sleep", 200, 1)]), stats_text([series("sleep", 200, 4)])]
    code, out, _ = run(FakeKube([waypoint_pod("wp-a")]), "waypoint", "metrics", "productpage", "--watch",
                       "--count", "2", "--interval", "1")
    assert code == 0
    blocks = out.strip().split("\n\n")
    assert len(blocks) == 2 and all(b.startswith("# ") and "waypoint default/productpage" in b for b in blocks)
    assert blocks[0].splitlines()[2].split()[-2:] == ["1", "1"]
    assert blocks[1].splitlines()[2].split()[-2:] == ["4", "3"]


def test_watch_json_is_one_document_per_line(served) -> None:
    answers, _ = served
    answers["wp-a"] = [GUIDE]
    code, out, _ = run(FakeKube([waypoint_pod("wp-a")]), "waypoint", "metrics", "productpage", "-w", "--count", "3",
                       "-o", "json")
    assert code == 0
    documents = [json.loads(line) for line in out.splitlines()]
    assert len(documents) == 3 and documents[1]["requests"][0]["new"] == 0


def test_no_pods_is_not_found(served) -> None:
    code, out, err = run(FakeKube([]), "waypoint", "metrics", "productpage")
    assert code == ExitCode.NOT_FOUND
    assert "no running pods of waypoint default/productpage" in err and out == ""


def test_no_requests_yet_says_so(served) -> None:
    answers, _ = served
    answers["wp-a"] = [""]
    code, out, err = run(FakeKube([waypoint_pod("wp-a")]), "waypoint", "metrics", "productpage")
    assert code == 0 and out == "" and "has handled no requests yet" in err
