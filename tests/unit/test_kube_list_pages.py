"""KubeClient.list pages through a big collection with limit/continue (issue 17): one request per 500 objects."""

from __future__ import annotations

from ambientctl.kube import client as kube_client
from ambientctl.kube.client import KubeClient


class PagingServer:
    """Answers LISTs of `total` pods in pages of the requested `limit`, as the API server does."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.queries: list[dict] = []

    def request(self, method, path, *, query=None, **_):
        params = dict(query or [])
        self.queries.append(params)
        start = int(params.get("continue") or 0)
        limit = int(params["limit"])
        end = min(self.total, start + limit)
        items = [{"metadata": {"name": f"pod-{i}", "namespace": "default"}} for i in range(start, end)]
        return {"items": items, "metadata": {"continue": str(end) if end < self.total else ""}}


def client(server: PagingServer) -> KubeClient:
    kube = KubeClient.__new__(KubeClient)
    kube._discovered = {}
    kube.default_namespace = "default"
    kube.request = server.request  # type: ignore[method-assign]
    return kube


def test_a_big_list_comes_in_pages_and_whole():
    server = PagingServer(1234)
    pods = client(server).list("v1", "Pod", all_namespaces=True, label_selector="app=x")
    assert [p["metadata"]["name"] for p in pods] == [f"pod-{i}" for i in range(1234)]
    assert all(p["kind"] == "Pod" and p["apiVersion"] == "v1" for p in pods)
    assert len(server.queries) == -(-1234 // kube_client.LIST_PAGE)
    assert all(q["limit"] == kube_client.LIST_PAGE and q["labelSelector"] == "app=x" for q in server.queries)
    assert "continue" not in server.queries[0] and server.queries[1]["continue"] == str(kube_client.LIST_PAGE)


def test_a_small_list_is_one_request():
    server = PagingServer(3)
    assert len(client(server).list("v1", "Pod", "default")) == 3
    assert len(server.queries) == 1


class ExpiringServer(PagingServer):
    """Its continue tokens expire (HTTP 410) the first `expiries` times a second page is asked for."""

    def __init__(self, total: int, expiries: int) -> None:
        super().__init__(total)
        self.expiries = expiries

    def request(self, method, path, *, query=None, **kwargs):
        params = dict(query or [])
        if params.get("continue") and self.expiries:
            self.expiries -= 1
            self.queries.append(params)
            raise kube_client.ListExpiredError("the list of pods expired", "retry")
        return super().request(method, path, query=query, **kwargs)


def test_an_expired_continue_token_restarts_the_list_from_its_first_page():
    server = ExpiringServer(1200, expiries=1)
    pods = client(server).list("v1", "Pod", all_namespaces=True)
    assert [p["metadata"]["name"] for p in pods] == [f"pod-{i}" for i in range(1200)]  # no page twice, none lost
    firsts = [i for i, q in enumerate(server.queries) if "continue" not in q]
    assert firsts == [0, 2]  # page 1, expired page 2, then page 1 again


def test_a_list_that_keeps_expiring_fails_with_one_line():
    server = ExpiringServer(1200, expiries=kube_client.LIST_RESTARTS + 1)
    try:
        client(server).list("v1", "Pod", all_namespaces=True)
    except kube_client.ListExpiredError as exc:
        assert "expired" in exc.one_line()
    else:
        raise AssertionError("an endlessly expiring list must fail")
    assert sum("continue" not in q for q in server.queries) == kube_client.LIST_RESTARTS + 1


def test_http_410_becomes_list_expired_with_a_hint():
    kube = KubeClient.__new__(KubeClient)
    error = kube._http_error("GET", "/api/v1/pods", 410,
                             b'{"kind":"Status","reason":"Expired","message":"continue token too old"}', "pods")
    assert isinstance(error, kube_client.ListExpiredError)
    assert "continue token too old" in error.one_line() and "narrow it with -n" in error.one_line()


def test_decoding_pauses_the_cycle_collector_and_restores_it():
    """decode_json (every response body) runs without the cycle collector, then leaves it as it was;
    a big document is frozen, so later collections never walk it (issue 17: 10,000 pods' LIST CPU)."""
    import gc

    import pytest

    seen = []

    def watch(phase, info):
        seen.append(phase)

    body = b'{"items": [' + b",".join([b'{"a": [1, {"b": 2}]}'] * 200_000) + b"]}"
    assert len(body) >= kube_client.FREEZE_AFTER
    assert gc.isenabled()
    gc.callbacks.append(watch)
    try:
        gc.collect()
        frozen_before = gc.get_freeze_count()
        seen.clear()
        page = kube_client.decode_json(body)
        collections = len(seen)  # read before anything allocates
        assert collections == 0  # 600,000 new containers, no collection
        assert gc.get_freeze_count() >= frozen_before + 400_000  # the items and their lists
        assert len(page["items"]) == 200_000
        assert gc.isenabled()
        with pytest.raises(ValueError):
            kube_client.decode_json(b"{not json")
        assert gc.isenabled()
        gc.disable()
        frozen = gc.get_freeze_count()
        kube_client.decode_json(b'{"small": [1]}')
        # a small body freezes nothing (the count may only fall: a frozen object freed by reference counting)
        assert not gc.isenabled() and gc.get_freeze_count() <= frozen
    finally:
        gc.enable()
        gc.unfreeze()
        gc.callbacks.remove(watch)
