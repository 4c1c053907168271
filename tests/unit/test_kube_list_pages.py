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
