"""istiod's `/debug/syncz` answers (port 15014), shaped field for field like istiod's `SyncStatus`.

A ztunnel subscribes to addresses and authorizations (WDS, WADS); a waypoint and a gateway to
CDS, LDS, EDS, RDS (and ECDS when there are Wasm filters). `sentTime` is Go's RFC 3339 with
nanoseconds. `NOW` is the clock the recorded documents are printed with.
"""

from __future__ import annotations

import datetime as dt
import json

from ambientctl.proxy.envoy import status

NOW = dt.datetime(2026, 9, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
ADDRESS = "type.googleapis.com/istio.workload.Address"
AUTHORIZATION = "type.googleapis.com/istio.security.Authorization"
SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"


def stamp(seconds_ago: float) -> str:
    t = NOW - dt.timedelta(seconds=seconds_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".123456789Z"


def resource(nonce_sent: str, nonce_acked: str, seconds_ago: float, error: str = "") -> dict:
    out = {"sent": nonce_sent, "acked": nonce_acked, "sentTime": stamp(seconds_ago)}
    if not nonce_sent:
        out = {"sentTime": "0001-01-01T00:00:00Z"}
    if error:
        out["lastError"] = error
    return out


def proxy(proxy_id: str, proxy_type: str, resources: dict, *, cluster: str = "Kubernetes",
          version: str = "1.31.0") -> dict:
    return {"cluster_id": cluster, "proxy": proxy_id, "proxy_type": proxy_type, "istio_version": version,
            "resources": resources}


def ambient_mesh() -> list[dict]:
    """Two ztunnels, a waypoint (one STALE type), an ingress gateway with an NACKed route, a sidecar."""
    return [
        proxy("ztunnel-4kx9p.istio-system", "ztunnel", {
            ADDRESS: resource("a1", "a1", 95), AUTHORIZATION: resource("b1", "b1", 95)}),
        proxy("ztunnel-zq7rm.istio-system", "ztunnel", {
            ADDRESS: resource("a2", "a2", 7200), AUTHORIZATION: resource("b2", "b2", 7200)}),
        proxy("waypoint-7d9c8b9f5-x2kq4.default", "waypoint", {
            status.CLUSTER_TYPE: resource("c3", "c3", 340),
            status.LISTENER_TYPE: resource("l3", "l3", 340),
            status.ENDPOINT_TYPE: resource("e4", "e3", 20),
            status.ROUTE_TYPE: resource("r3", "r3", 340)}),
        proxy("bookinfo-gateway-istio-6b8d4c7f9-p5m2n.default", "router", {
            status.CLUSTER_TYPE: resource("c5", "c5", 3 * 86400 + 3600),
            status.LISTENER_TYPE: resource("l5", "l5", 3 * 86400 + 3600),
            status.ENDPOINT_TYPE: resource("e5", "e5", 60),
            status.ROUTE_TYPE: resource("r5", "r4", 60, error="route bookinfo: duplicate virtual host domain"),
            SECRET: resource("", "", 0)}),
        proxy("productpage-v1-5d9b4c7f8-abcde.bookinfo", "sidecar", {
            status.CLUSTER_TYPE: resource("c6", "c6", 30),
            status.LISTENER_TYPE: resource("l6", "l6", 30),
            status.ENDPOINT_TYPE: resource("e6", "e6", 30),
            status.ROUTE_TYPE: resource("r6", "r6", 30),
            status.ECDS_TYPE: resource("x6", "x6", 30)}, version="1.30.2"),
    ]


def encoded(doc: list[dict] | None) -> bytes:
    return json.dumps(doc).encode()
