"""Envoy `/config_dump` (and `/clusters?format=json`) documents shaped like real Istio proxies.

Built here from Envoy's admin API shapes (snake_case, as Envoy prints them), with the
resource names and layouts istiod generates:

* `waypoint_dump()`: an ambient waypoint (default/waypoint): `inbound-vip|PORT|http|HOST`
  and `…|tcp|…` EDS clusters with subsets (90/10 routing to reviews v1/v2), the
  `main_internal` internal listener whose filter-chain matcher dispatches on VIP then port,
  `connect_terminate` on 15008, `connect_originate` (internal listener, ORIGINAL_DST
  cluster, EDS endpoints at `envoy://connect_originate/IP:PORT`);
* `gateway_dump()`: an ingress gateway for a Gateway API HTTPRoute (RDS route `http.80`
  with `path_separated_prefix` (`PathPrefix:/get`), exact paths, a regex and a 404 host);
* `sidecar_dump()`: a sidecar-like proxy (virtualOutbound/virtualInbound, per-port HTTP
  listeners on RDS routes with many domains, TCP listeners, dual-stack addresses, numeric
  and named routes, ECDS Wasm filters, a type nobody knows);
* `spiffe_dump()`: a proxy whose ROOTCA is a SPIFFE trust bundle (one per trust domain).

Every dump has a bootstrap, static clusters/listeners as Istio's bootstrap makes them,
warming resources (which istioctl never lists), and, with `include_eds=True`, the EDS
section `/config_dump?include_eds` adds.  `clusters_json(dump)` derives the
`/clusters?format=json` document from the EDS section (with and without health status).
`big_dump(target_bytes)` scales the sidecar up for benchmarks.
"""

from __future__ import annotations

import copy
import json
from typing import Any

ADMIN = "type.googleapis.com/envoy.admin.v3."
CLUSTER_T = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
LISTENER_T = "type.googleapis.com/envoy.config.listener.v3.Listener"
ROUTE_T = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
CLA_T = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
HCM = "envoy.filters.network.http_connection_manager"
HCM_T = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
TCP = "envoy.filters.network.tcp_proxy"
TCP_T = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
TEC_T = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"
STRING_T = "type.googleapis.com/google.protobuf.StringValue"
IP_MATCHER_T = "type.googleapis.com/xds.type.matcher.v3.IPMatcher"
UNKNOWN_T = "type.googleapis.com/example.future.v9.SomethingNew"
T0 = "2026-09-01T01:30:52.104Z"
VERSION = "2026-09-01T01:30:50Z/17"


# -- small builders -----------------------------------------------------------------------------


def socket(address: str, port: int) -> dict:
    return {"socket_address": {"address": address, "port_value": port}}


def internal(listener: str, endpoint_id: str = "") -> dict:
    inner: dict[str, Any] = {"server_listener_name": listener}
    if endpoint_id:
        inner["endpoint_id"] = endpoint_id
    return {"envoy_internal_address": inner}


def istio_config(kind: str, ns: str, name: str, version: str = "v1") -> dict:
    """Metadata istiod puts on clusters/routes: the config that made them (DESTINATION RULE, VIRTUAL SERVICE)."""
    return {"filter_metadata": {"istio": {"config": f"/apis/networking.istio.io/{version}/namespaces/{ns}/{kind}/{name}"}}}


def cluster(name: str, kind: str = "EDS", metadata: dict | None = None, **extra: Any) -> dict:
    out: dict[str, Any] = {"@type": CLUSTER_T, "name": name}
    if kind == "EDS":
        out["type"] = "EDS"
        out["eds_cluster_config"] = {"eds_config": {"ads": {}, "initial_fetch_timeout": "0s",
                                                    "resource_api_version": "V3"}, "service_name": name}
    elif kind != "STATIC":  # STATIC is the enum's zero value: Envoy leaves it out
        out["type"] = kind
    out["connect_timeout"] = "10s"
    if metadata:
        out["metadata"] = metadata
    out.update(extra)
    return out


def hcm(stat_prefix: str, *, rds: str | None = None, route_config: dict | None = None,
        http_filters: list | None = None) -> dict:
    config: dict[str, Any] = {"@type": HCM_T, "stat_prefix": stat_prefix}
    if rds is not None:
        config["rds"] = {"config_source": {"ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3"},
                         "route_config_name": rds}
    if route_config is not None:
        config["route_config"] = route_config
    config["http_filters"] = http_filters or [
        {"name": "envoy.filters.http.router",
         "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]
    return {"name": HCM, "typed_config": config}


def tcp_proxy(cluster_name: str, stat_prefix: str | None = None, **extra: Any) -> dict:
    config = {"@type": TCP_T, "stat_prefix": stat_prefix or cluster_name, "cluster": cluster_name, **extra}
    return {"name": TCP, "typed_config": config}


def route(match: dict, cluster_name: str | None = None, *, weighted: list[tuple[str, int]] | None = None,
          metadata: dict | None = None, name: str | None = None, direct: int | None = None) -> dict:
    out: dict[str, Any] = {}
    if name:
        out["name"] = name
    out["match"] = match
    if direct is not None:
        out["direct_response"] = {"status": direct}
    elif weighted:
        out["route"] = {"weighted_clusters": {"clusters": [{"name": c, "weight": w} for c, w in weighted]},
                        "timeout": "0s"}
    else:
        out["route"] = {"cluster": cluster_name, "timeout": "0s"}
    if metadata:
        out["metadata"] = metadata
    return out


def vhost(name: str, domains: list[str], routes: list[dict]) -> dict:
    """A virtual host; Envoy (like protobuf JSON) leaves out an empty `routes`."""
    out: dict[str, Any] = {"name": name, "domains": domains}
    if routes:
        out["routes"] = routes
    out["include_request_attempt_count"] = True
    return out


def route_config(name: str | None, vhosts: list[dict]) -> dict:
    """A RouteConfiguration as a message (inline in an HCM); `_any()` makes it a dump entry."""
    out: dict[str, Any] = {}
    if name is not None:
        out["name"] = name
    out["virtual_hosts"] = vhosts
    out["validate_clusters"] = False
    return out


def chain(filters: list[dict], match: dict | None = None, name: str | None = None, **extra: Any) -> dict:
    out: dict[str, Any] = {}
    if match is not None:
        out["filter_chain_match"] = match
    out["filters"] = filters
    if name:
        out["name"] = name
    out.update(extra)
    return out


def listener(name: str, address: dict | None, chains: list[dict], **extra: Any) -> dict:
    out: dict[str, Any] = {"@type": LISTENER_T, "name": name}
    if address is not None:
        out["address"] = address
    else:
        out["internal_listener"] = {}
    out["filter_chains"] = chains
    out.update(extra)
    return out


def lb_endpoint(address: dict, health: str | None = None, *, metadata: dict | None = None) -> dict:
    out: dict[str, Any] = {"endpoint": {"address": address}}
    if health:
        out["health_status"] = health
    if metadata:
        out["metadata"] = metadata
    out["load_balancing_weight"] = 1
    return out


def cla(cluster_name: str, endpoints: list[dict], locality: dict | None = None) -> dict:
    group: dict[str, Any] = {"lb_endpoints": endpoints}
    if locality is not None:
        group["locality"] = locality
    out: dict[str, Any] = {"@type": CLA_T, "cluster_name": cluster_name}
    if endpoints:
        out["endpoints"] = [group]
    out["policy"] = {"overprovisioning_factor": 140}
    return out


def _any(type_url: str, message: dict) -> dict:
    """A message as a config dump holds it: an Any, `@type` first."""
    return {"@type": type_url, **{k: v for k, v in message.items() if k != "@type"}}


# -- what every Istio proxy has (bootstrap) ----------------------------------------------------


def bootstrap(node_id: str, name: str, namespace: str, *, envoy: tuple[int, int, int] = (1, 37, 1),
              label: str | None = None) -> dict:
    build_md = {"revision.status": "Clean", "build.type": "RELEASE", "ssl.version": "BoringSSL"}
    if label:
        build_md["build.label"] = label
    return {
        "@type": ADMIN + "BootstrapConfigDump",
        "bootstrap": {
            "node": {
                "id": node_id,
                "cluster": f"{name}.{namespace}",
                "metadata": {"ISTIO_VERSION": "1.31.0", "ISTIO_PROXY_SHA": "istio-proxy:6b2c1a3f0e9d",
                             "NAME": f"{name}-7d4b9c8f6d-x2x9k", "NAMESPACE": namespace, "CLUSTER_ID": "Kubernetes",
                             "MESH_ID": "cluster.local", "LABELS": {"app": name}},
                "locality": {"region": "us-east1", "zone": "us-east1-b"},
                "user_agent_name": "envoy",
                "user_agent_build_version": {"version": {"major_number": envoy[0], "minor_number": envoy[1],
                                                         "patch": envoy[2]}, "metadata": build_md},
            },
            "static_resources": {"clusters": [{k: v for k, v in static_cluster("prometheus_stats").items()
                                               if k != "@type"}]},
            "dynamic_resources": {"lds_config": {"ads": {}, "initial_fetch_timeout": "0s",
                                                 "resource_api_version": "V3"},
                                  "cds_config": {"ads": {}, "initial_fetch_timeout": "0s",
                                                 "resource_api_version": "V3"},
                                  "ads_config": {"api_type": "GRPC", "set_node_on_first_message_only": True,
                                                 "transport_api_version": "V3",
                                                 "grpc_services": [{"envoy_grpc": {"cluster_name": "xds-grpc"}}]}},
            "admin": {"address": socket("127.0.0.1", 15000), "profile_path": "/var/lib/istio/data/envoy.prof"},
            "stats_config": {"use_all_default_tags": False},
        },
        "last_updated": "2026-09-01T01:30:40.001Z",
    }


def static_cluster(name: str) -> dict:
    targets = {"prometheus_stats": socket("127.0.0.1", 15000), "agent": socket("127.0.0.1", 15020),
               "sds-grpc": {"pipe": {"path": "./var/run/secrets/workload-spiffe-uds/socket"}},
               "xds-grpc": {"pipe": {"path": "./etc/istio/proxy/XDS"}}}
    out = cluster(name, "STATIC")
    out["load_assignment"] = {"cluster_name": name,
                              "endpoints": [{"lb_endpoints": [{"endpoint": {"address": targets[name]}}]}]}
    if name in ("sds-grpc", "xds-grpc"):
        out["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}}}}
    return out


STATIC_CLUSTERS = ("agent", "prometheus_stats", "sds-grpc", "xds-grpc")


def static_listeners() -> list[dict]:
    """The two listeners Istio's bootstrap adds: merged Prometheus stats (15090) and readiness (15021)."""
    stats = listener("", socket("0.0.0.0", 15090), [chain([hcm("stats", route_config=route_config(None, [
        vhost("backend", ["*"], [route({"prefix": "/stats/prometheus"}, "prometheus_stats")])]))])])
    ready = listener("", socket("0.0.0.0", 15021), [chain([hcm("agent", route_config=route_config(None, [
        vhost("backend", ["*"], [route({"prefix": "/healthz/ready"}, "agent")])]))])])
    del stats["name"], ready["name"]
    return [stats, ready]


def _static_route_configs(listeners: list[dict]) -> list[dict]:
    """Envoy lists every inline route config of every HCM as a static route config."""
    out = []
    for item in listeners:
        for fc in item.get("filter_chains", []) + ([item["default_filter_chain"]]
                                                   if "default_filter_chain" in item else []):
            for flt in fc.get("filters", []):
                inline = flt.get("typed_config", {}).get("route_config")
                if flt.get("name") == HCM and inline:
                    out.append({"route_config": _any(ROUTE_T, inline), "last_updated": T0})
    return out


def assemble(boot: dict, *, static_clusters: list[dict], active_clusters: list[dict],
             warming_clusters: list[dict] = (), static_lst: list[dict], active_lst: list[dict],
             warming_lst: list[dict] = (), rds: list[dict] = (), secrets: dict | None = None,
             endpoints: list[dict] | None = None, static_endpoints: list[dict] = (),
             ecds: list[dict] | None = None, extra_configs: list[dict] = ()) -> dict:
    """A whole dump, sections in Envoy's order (bootstrap, clusters, [ecds], [endpoints], listeners,
    scoped routes, routes, secrets)."""
    configs: list[dict] = [boot]
    configs.append({
        "@type": ADMIN + "ClustersConfigDump", "version_info": VERSION,
        "static_clusters": [{"cluster": c, "last_updated": "2026-09-01T01:30:40.010Z"} for c in static_clusters],
        "dynamic_active_clusters": [{"version_info": VERSION, "cluster": c, "last_updated": T0}
                                    for c in active_clusters],
        **({"dynamic_warming_clusters": [{"version_info": VERSION, "cluster": c, "last_updated": T0}
                                         for c in warming_clusters]} if warming_clusters else {}),
    })
    if ecds is not None:
        configs.extend(ecds)
    if endpoints is not None:
        configs.append({"@type": ADMIN + "EndpointsConfigDump",
                        "static_endpoint_configs": [{"endpoint_config": e} for e in static_endpoints],
                        "dynamic_endpoint_configs": [{"version_info": VERSION, "endpoint_config": e,
                                                      "last_updated": T0} for e in endpoints]})
    dynamic = [{"name": item["name"], "active_state": {"version_info": VERSION, "listener": item, "last_updated": T0}}
               for item in active_lst]
    for item in warming_lst:  # one entry per name: a listener being replaced has both states
        state = {"version_info": VERSION + "1", "listener": item, "last_updated": T0}
        entry = next((d for d in dynamic if d["name"] == item["name"]), None)
        if entry is None:
            dynamic.append({"name": item["name"], "warming_state": state})
        else:
            entry["warming_state"] = state
    dynamic.append({"name": "broken_listener", "error_state": {
        "failed_configuration": {"@type": LISTENER_T, "name": "broken_listener"},
        "last_update_attempt": T0, "details": "error adding listener: duplicate address"}})
    configs.append({"@type": ADMIN + "ListenersConfigDump", "version_info": VERSION,
                    "static_listeners": [{"listener": item, "last_updated": "2026-09-01T01:30:40.010Z"}
                                         for item in static_lst],
                    "dynamic_listeners": dynamic})
    configs.append({"@type": ADMIN + "ScopedRoutesConfigDump"})
    configs.append({"@type": ADMIN + "RoutesConfigDump",
                    "static_route_configs": _static_route_configs(static_lst + active_lst),
                    "dynamic_route_configs": [{"version_info": VERSION, "route_config": _any(ROUTE_T, r),
                                               "last_updated": T0} for r in rds]})
    if secrets is not None:
        configs.append(secrets)
    configs.extend(extra_configs)
    return {"configs": configs}


def _secrets(kind: str) -> dict:
    """C2's fixed-certificate SDS sections (tests/support/envoysecrets.py)."""
    from tests.support import envoysecrets

    source = {"waypoint": envoysecrets.waypoint_dump, "gateway": envoysecrets.gateway_dump,
              "spiffe": envoysecrets.spiffe_bundle_dump}[kind]()
    return next(c for c in source["configs"] if c.get("@type") == ADMIN + "SecretsConfigDump")


# -- the waypoint ------------------------------------------------------------------------------------

SVC = "{}.default.svc.cluster.local"
PODS = {"productpage": ["10.244.1.10"], "reviews-v1": ["10.244.1.11"], "reviews-v2": ["10.244.2.12"],
        "ratings": ["10.244.2.13"]}
VIPS = {"productpage": "10.96.0.10", "reviews": "10.96.0.11", "ratings": "10.96.0.12"}


def _to_chain(name: str) -> dict:
    return {"action": {"name": name, "typed_config": {"@type": STRING_T, "value": name}}}


def _exact(input_name: str, input_type: str, mapping: dict[str, dict], on_no_match: dict | None = None) -> dict:
    tree = {"input": {"name": input_name, "typed_config": {"@type": input_type}},
            "exact_match_map": {"map": mapping}}
    out: dict[str, Any] = {"matcher_tree": tree}
    if on_no_match:
        out["on_no_match"] = on_no_match
    return out


PORT_INPUT = "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput"
IP_INPUT = "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationIPInput"
ALPN_INPUT = "type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.ApplicationProtocolInput"


def _main_internal_matcher() -> dict:
    ranges = []
    for svc, vip in VIPS.items():
        ports = {"9080": _to_chain(f"inbound-vip|9080|http|{SVC.format(svc)}")}
        if svc == "ratings":
            ports["9090"] = _to_chain(f"inbound-vip|9090|tcp|{SVC.format(svc)}")
        ranges.append({"ranges": [{"address_prefix": vip, "prefix_len": 32}],
                       "on_match": {"matcher": _exact("port", PORT_INPUT, ports)}})
    pod_ips = [{"address_prefix": ip, "prefix_len": 32} for ips in PODS.values() for ip in ips]
    pod_ips.append({"address_prefix": "10.244.3.0", "prefix_len": 24})  # a whole range: printed with /24
    ranges.append({"ranges": pod_ips, "on_match": {"matcher": _exact(
        "application-protocol", ALPN_INPUT, {"'h2c'": _to_chain("direct-http"), "'http/1.1'": _to_chain("direct-http")},
        on_no_match=_to_chain("direct-tcp"))}})
    return {"matcher_tree": {"input": {"name": "ip", "typed_config": {"@type": IP_INPUT}},
                             "custom_match": {"name": "ip", "typed_config": {"@type": IP_MATCHER_T,
                                                                             "range_matchers": ranges}}}}


def waypoint_dump(include_eds: bool = True) -> dict:
    """default/waypoint, serving productpage, reviews (90/10 v1/v2) and ratings (HTTP 9080, TCP 9090)."""
    boot = bootstrap("waypoint~10.244.1.20~waypoint-7d4b9c8f6d-x2x9k.default~default.svc.cluster.local",
                     "waypoint", "default")
    vip_clusters, chains, endpoints = [], [], []
    for svc in ("productpage", "reviews", "ratings"):
        host = SVC.format(svc)
        dr = istio_config("destination-rule", "default", svc) if svc == "reviews" else None
        subsets = ["http", "tcp"] + (["http/v1", "http/v2", "tcp/v1", "tcp/v2"] if svc == "reviews" else [])
        for subset in subsets:
            name = f"inbound-vip|9080|{subset}|{host}"
            vip_clusters.append(cluster(name, "EDS", dr, transport_socket_matches=[{
                "name": "internal_upstream", "match": {"tunnel": "true"},
                "transport_socket": {"name": "internal_upstream", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3."
                             "InternalUpstreamTransport",
                    "transport_socket": {"name": "raw_buffer", "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer"}}}}}]))
            pods = [p for p in PODS if p.split("-")[0] == svc]
            if "/" in subset:
                pods = [p for p in pods if p.endswith(subset.split("/")[1])]
            healthy = svc != "ratings"  # ratings' EDS carries no health status at all
            endpoints.append(cla(name, [
                lb_endpoint(internal("connect_originate", f"{ip}:9080"), "HEALTHY" if healthy else None,
                            metadata={"filter_metadata": {"tunnel": {"destination": f"{ip}:9080"}}})
                for p in pods for ip in PODS[p]], locality={"region": "us-east1", "zone": "us-east1-b"}))
        http_name = f"inbound-vip|9080|http|{host}"
        if svc == "reviews":
            routes = [route({"prefix": "/"}, weighted=[(f"inbound-vip|9080|http/v1|{host}", 90),
                                                       (f"inbound-vip|9080|http/v2|{host}", 10)],
                            metadata=istio_config("virtual-service", "default", "reviews"), name="default")]
        else:
            routes = [route({"prefix": "/"}, http_name, name="default")]
        chains.append(chain([hcm(f"inbound_0.0.0.0_9080;", route_config=route_config(
            http_name, [vhost("inbound|http|9080", ["*"], routes)]))], name=http_name))
        chains.append(chain([tcp_proxy(f"inbound-vip|9080|tcp|{host}")], name=f"inbound-vip|9080|tcp|{host}"))
    ratings_tcp = f"inbound-vip|9090|tcp|{SVC.format('ratings')}"
    vip_clusters.append(cluster(ratings_tcp, "EDS"))
    chains.append(chain([tcp_proxy(ratings_tcp)], name=ratings_tcp))
    endpoints.append(cla(ratings_tcp, []))  # no endpoints at all: istioctl shows nothing for it
    chains.append(chain([tcp_proxy("encap", "direct-tcp")], name="direct-tcp"))
    chains.append(chain([hcm("direct-http", route_config=route_config("encap", [
        vhost("inbound|http|0", ["*"], [route({"prefix": "/"}, "encap", name="default")])]))], name="direct-http"))
    main_internal = listener("main_internal", None, chains, filter_chain_matcher=_main_internal_matcher(),
                             traffic_direction="INBOUND", listener_filters=[
                                 {"name": "envoy.filters.listener.original_dst", "typed_config": {
                                     "@type": "type.googleapis.com/envoy.extensions.filters.listener."
                                              "original_dst.v3.OriginalDst"}},
                                 {"name": "envoy.filters.listener.http_inspector", "typed_config": {
                                     "@type": "type.googleapis.com/envoy.extensions.filters.listener."
                                              "http_inspector.v3.HttpInspector"}}])
    terminate = listener("connect_terminate", socket("0.0.0.0", 15008), [chain([hcm(
        "connect_terminate", route_config=route_config("default", [vhost("default", ["*"], [
            route({"connect_matcher": {}}, "main_internal", name="default")])]))], name="default")])
    originate = listener("connect_originate", None, [chain([tcp_proxy(
        "connect_originate", tunneling_config={"hostname": "%DOWNSTREAM_LOCAL_ADDRESS%"})],
        name="envoy://connect_originate")])
    active_clusters = [
        cluster("BlackHoleCluster", "STATIC"),
        cluster("connect_originate", "ORIGINAL_DST", lb_policy="CLUSTER_PROVIDED"),
        cluster("encap", "STATIC", load_assignment={"cluster_name": "encap", "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": internal("connect_originate")}}]}]}),
        cluster("main_internal", "STATIC", load_assignment={"cluster_name": "main_internal", "endpoints": [
            {"lb_endpoints": [{"endpoint": {"address": internal("main_internal")}}]}]}),
        *vip_clusters,
    ]
    static_eps = [cla("prometheus_stats", [lb_endpoint(socket("127.0.0.1", 15000))]),
                  cla("agent", [lb_endpoint(socket("127.0.0.1", 15020))]),
                  cla("xds-grpc", [lb_endpoint({"pipe": {"path": "./etc/istio/proxy/XDS"}})]),
                  cla("main_internal", [lb_endpoint(internal("main_internal"))])]
    return assemble(
        boot, static_clusters=[static_cluster(n) for n in STATIC_CLUSTERS], active_clusters=active_clusters,
        warming_clusters=[cluster(f"inbound-vip|9080|http/v3|{SVC.format('reviews')}")],
        static_lst=static_listeners(), active_lst=[terminate, main_internal, originate],
        warming_lst=[listener("main_internal", None, chains[:1])], secrets=_secrets("waypoint"),
        endpoints=endpoints if include_eds else None, static_endpoints=static_eps)


# -- the ingress gateway (Gateway API) ------------------------------------------------------------------


def gateway_dump(include_eds: bool = True) -> dict:
    """istio-ingress/bookinfo-gateway-istio, programmed from a Gateway API Gateway and HTTPRoute `bookinfo`."""
    boot = bootstrap("router~10.244.1.30~bookinfo-gateway-istio-6c9f7d-abcde.istio-ingress~istio-ingress.svc."
                     "cluster.local", "bookinfo-gateway-istio", "istio-ingress", label="dev")
    vs = istio_config("virtual-service", "default", "bookinfo-0-istio-autogenerated-k8s-gateway")
    out = {s: f"outbound|9080||{SVC.format(s)}" for s in ("productpage", "reviews", "details")}
    httpbin = "outbound|8000||httpbin.default.svc.cluster.local"
    rds = [route_config("http.80", [
        vhost("bookinfo.example.com:80", ["bookinfo.example.com", "bookinfo.example.com:*"], [
            route({"path": "/productpage", "case_sensitive": True}, out["productpage"], metadata=vs,
                  name="default.bookinfo.0"),
            route({"path_separated_prefix": "/static"}, out["productpage"], metadata=vs, name="default.bookinfo.1"),
            route({"path_separated_prefix": "/get"}, httpbin, metadata=vs, name="default.bookinfo.2"),
            route({"safe_regex": {"regex": "/api/v1/products/[0-9]+"}}, out["details"], metadata=vs),
            route({"prefix": "/"}, out["reviews"], metadata=vs),
        ]),
        vhost("blackhole:80", ["*"], []),
    ]), route_config("https.443.https.bookinfo-gateway-istio-autogenerated-k8s-gateway-https.istio-ingress", [
        vhost("bookinfo.example.com:443", ["bookinfo.example.com"], [
            route({"prefix": "/"}, out["productpage"], metadata=istio_config("virtual-service", "default", "tls"))])])]
    http80 = listener("0.0.0.0_80", socket("0.0.0.0", 80), [chain([hcm("outbound_0.0.0.0_80", rds="http.80")])])
    https = listener("0.0.0.0_443", socket("0.0.0.0", 443), [chain(
        [hcm("outbound_0.0.0.0_443", rds=rds[1]["name"])], {"server_names": ["bookinfo.example.com"]},
        transport_socket={"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": {"tls_certificate_sds_secret_configs": [
                {"name": "kubernetes://istio-ingress/bookinfo-cert", "sds_config": {"ads": {}}}]}}})])
    clusters = [cluster("BlackHoleCluster", "STATIC"),
                cluster(httpbin), *(cluster(n) for n in out.values()),
                cluster(f"outbound|9080|v1|{SVC.format('reviews')}", metadata=istio_config(
                    "destination-rule", "default", "reviews")),
                cluster("outbound|443||kubernetes.default.svc.cluster.local", "EDS")]
    endpoints = [cla(out["productpage"], [lb_endpoint(socket("10.244.1.10", 9080), "HEALTHY")],
                     locality={"region": "us-east1", "zone": "us-east1-b", "sub_zone": "rack1"}),
                 cla(out["reviews"], [lb_endpoint(socket("10.244.1.11", 9080), "HEALTHY"),
                                      lb_endpoint(socket("10.244.2.12", 9080), "UNHEALTHY")],
                     locality={"region": "us-east1", "zone": "us-east1-c"}),
                 cla(out["details"], [lb_endpoint(socket("10.244.2.14", 9080), "DRAINING")]),
                 cla(httpbin, [lb_endpoint(socket("10.244.1.15", 8080))]),
                 cla("outbound|443||kubernetes.default.svc.cluster.local",
                     [lb_endpoint(socket("172.18.0.2", 6443), "HEALTHY")])]
    return assemble(boot, static_clusters=[static_cluster(n) for n in STATIC_CLUSTERS], active_clusters=clusters,
                    static_lst=static_listeners(), active_lst=[http80, https], rds=rds,
                    secrets=_secrets("gateway"), endpoints=endpoints if include_eds else None,
                    static_endpoints=[cla("agent", [lb_endpoint(socket("127.0.0.1", 15020), "HEALTHY")])])


# -- the sidecar-like proxy ------------------------------------------------------------------------------


def _domains(svc: str, ns: str, vip: str, port: int, v6: str | None = None) -> list[str]:
    full = f"{svc}.{ns}.svc.cluster.local"
    names = [full, f"{full}:{port}", svc, f"{svc}:{port}", f"{svc}.{ns}.svc", f"{svc}.{ns}.svc:{port}",
             f"{svc}.{ns}", f"{svc}.{ns}:{port}", vip, f"{vip}:{port}"]
    if v6:
        names += [f"[{v6}]", f"[{v6}]:{port}"]
    return names


ECDS_WASM_T = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"
ECDS_NET_WASM_T = "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm"


def _ecds_sections() -> list[dict]:
    def item(name: str, type_url: str, body: dict) -> dict:
        return {"version_info": VERSION, "ecds_filter": {"@type": TEC_T, "name": name,
                                                          "typed_config": {"@type": type_url, **body}},
                "last_updated": T0}

    wasm = {"config": {"name": "openid", "vm_config": {"runtime": "envoy.wasm.runtime.v8", "code": {
        "local": {"filename": "/var/lib/istio/data/abc/module.wasm"}}}}}
    return [
        {"@type": ADMIN + "EcdsConfigDump", "ecds_filters": [
            item("default.openid-connect", ECDS_WASM_T, wasm),
            item("default.basic-auth", ECDS_WASM_T, wasm),
            item("istio-system.future-filter", UNKNOWN_T, {"knob": 3}),
        ]},
        {"@type": ADMIN + "EcdsConfigDump", "ecds_filters": [item("default.tcp-metrics", ECDS_NET_WASM_T, wasm)]},
    ]


def sidecar_dump(include_eds: bool = True, services: int = 0) -> dict:
    """default/sleep with a sidecar: outbound to httpbin (80), bookinfo (9080) and kubernetes (443);
    `services` adds that many more HTTP services on port 9080 (for scale)."""
    boot = bootstrap("sidecar~10.244.1.40~sleep-5b9b7c9d8-q7x2m.default~default.svc.cluster.local", "sleep", "default")
    hosts9080 = [("productpage", "10.96.0.10"), ("reviews", "10.96.0.11"), ("ratings", "10.96.0.12"),
                 ("details", "10.96.0.13")] + [(f"svc{i:05d}", f"10.97.{i // 250}.{i % 250 + 1}")
                                               for i in range(services)]
    passthrough = route({"prefix": "/"}, "PassthroughCluster", name="allow_any")
    rds = [
        route_config("80", [
            vhost("httpbin.default.svc.cluster.local:80", _domains("httpbin", "default", "10.96.0.30", 80,
                                                                   "fd00:10:96::1e"),
                  [route({"prefix": "/"}, "outbound|80||httpbin.default.svc.cluster.local", name="default")]),
            vhost("allow_any", ["*"], [passthrough]),
        ]),
        route_config("9080", [
            *(vhost(f"{h}.default.svc.cluster.local:9080", _domains(h, "default", vip, 9080),
                    [route({"prefix": "/"}, f"outbound|9080||{h}.default.svc.cluster.local", name="default",
                           metadata=istio_config("virtual-service", "default", h) if h == "reviews" else None)])
              for h, vip in hosts9080),
            vhost("allow_any", ["*"], [passthrough]),
        ]),
        route_config("15010", [vhost("istiod.istio-system.svc.cluster.local:15010",
                                     ["istiod.istio-system.svc.cluster.local:15010", "istiod.istio-system:15010",
                                      "istiod.istio-system.svc:15010"],
                                     [route({"prefix": "/"}, "outbound|15010||istiod.istio-system.svc.cluster.local",
                                            metadata={"filter_metadata": {"istio": {"config": "/apis/other/x"}}})])]),
        route_config("InboundPassthroughCluster", [vhost("inbound|http|0", ["*"], [
            route({"prefix": "/"}, "InboundPassthroughCluster", name="default")])]),
        route_config("outbound|8000||httpbin.default.svc.cluster.local", [vhost(
            "inbound|http|8000", ["*"], [route({"prefix": "/"}, "inbound|8000||", name="default")])]),
    ]
    blackhole_tcp = tcp_proxy("BlackHoleCluster", "BlackHoleCluster")
    outbound = listener("virtualOutbound", socket("0.0.0.0", 15001), [
        chain([tcp_proxy("PassthroughCluster", "PassthroughCluster")], None, "virtualOutbound-catchall-tcp"),
        chain([blackhole_tcp], {"destination_port": 15001}, "virtualOutbound-blackhole"),
    ], use_original_dst=True, traffic_direction="OUTBOUND")
    inbound_http = hcm("inbound_0.0.0.0_8000", route_config=route_config("inbound|8000||", [vhost(
        "inbound|http|8000", ["*"], [route({"prefix": "/"}, "inbound|8000||", name="default")])]))
    inbound = listener("virtualInbound", socket("0.0.0.0", 15006), [
        chain([blackhole_tcp], {"destination_port": 15006}, "virtualInbound-blackhole"),
        chain([tcp_proxy("InboundPassthroughCluster")], {"prefix_ranges": [
            {"address_prefix": "0.0.0.0", "prefix_len": 0}], "transport_protocol": "tls",
            "application_protocols": ["istio-peer-exchange", "istio"]}, "virtualInbound"),
        chain([hcm("InboundPassthroughCluster", rds="InboundPassthroughCluster")], {"prefix_ranges": [
            {"address_prefix": "0.0.0.0", "prefix_len": 0}], "transport_protocol": "tls",
            "application_protocols": ["http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1",
                                      "istio-h2"]}, "virtualInbound-catchall-http"),
        chain([inbound_http], {"destination_port": 8000, "transport_protocol": "raw_buffer",
                               "application_protocols": ["http/1.1", "h2c", "http/1.0"]}, "0.0.0.0_8000"),
        chain([tcp_proxy("inbound|8000||")], {"destination_port": 8000, "transport_protocol": "raw_buffer",
                                              "server_names": ["a.example", "b.example"]}, "0.0.0.0_8000_tcp"),
        chain([tcp_proxy("InboundPassthroughCluster")], {"prefix_ranges": [
            {"address_prefix": "10.244.0.0", "prefix_len": 16}, {"address_prefix": "::", "prefix_len": 0}]},
            "virtualInbound-ipv6"),
        chain([{"name": "istio.stats", "typed_config": {"@type": UNKNOWN_T, "x": 1}}], {"transport_protocol": "quic"},
              "virtualInbound-unknown"),
    ], traffic_direction="INBOUND", use_original_dst=True,
        default_filter_chain=chain([tcp_proxy("InboundPassthroughCluster")], None, "virtualInbound-default"))
    http80 = listener("0.0.0.0_80", socket("0.0.0.0", 80), [chain([hcm("outbound_0.0.0.0_80", rds="80")])],
                      bind_to_port=False, traffic_direction="OUTBOUND")
    http9080 = listener("0.0.0.0_9080", socket("0.0.0.0", 9080), [
        chain([hcm("outbound_0.0.0.0_9080", rds="9080")], {"application_protocols": ["http/1.1", "h2c"]}),
        chain([tcp_proxy("PassthroughCluster")], None)], bind_to_port=False)
    kube = listener("10.96.0.1_443", socket("10.96.0.1", 443), [chain(
        [tcp_proxy("outbound|443||kubernetes.default.svc.cluster.local")],
        {"server_names": ["kubernetes.default.svc.cluster.local"]})], bind_to_port=False)
    dual = listener("10.96.0.20_8000", socket("10.96.0.20", 8000), [chain(
        [tcp_proxy("outbound|8000||echo.default.svc.cluster.local")])], bind_to_port=False,
        additional_addresses=[{"address": socket("fd00:10:96::14", 8000)}])
    istiod = listener("0.0.0.0_15010", socket("0.0.0.0", 15010), [chain([hcm("outbound_0.0.0.0_15010",
                                                                              rds="15010")])], bind_to_port=False)
    uds = listener("uds", {"pipe": {"path": "/var/run/app.sock"}}, [chain([tcp_proxy("inbound|0||")])])
    clusters = [cluster("BlackHoleCluster", "STATIC"), cluster("InboundPassthroughCluster", "ORIGINAL_DST"),
                cluster("PassthroughCluster", "ORIGINAL_DST"),
                cluster("inbound|8000||", "ORIGINAL_DST"),
                cluster("outbound|80||httpbin.default.svc.cluster.local"),
                cluster("outbound|8000||echo.default.svc.cluster.local"),
                cluster("outbound|443||kubernetes.default.svc.cluster.local"),
                cluster("outbound|15010||istiod.istio-system.svc.cluster.local"),
                cluster("outbound|53||kube-dns.kube-system.svc.cluster.local", "STRICT_DNS"),
                cluster("outbound_.80_._.httpbin.default.svc.cluster.local", "EDS"),
                cluster("outbound|9080|v2|reviews.default.svc.cluster.local",
                        metadata=istio_config("destination-rule", "default", "reviews")),
                cluster("outbound|9080|v1|reviews.default.svc.cluster.local",
                        metadata=istio_config("destination-rule", "default", "reviews")),
                cluster("aggregate-cluster", "STATIC", cluster_type={"name": "envoy.clusters.aggregate",
                        "typed_config": {"@type": UNKNOWN_T, "clusters": ["a", "b"]}}),
                *(cluster(f"outbound|9080||{h}.default.svc.cluster.local") for h, _ in hosts9080)]
    endpoints = [cla(f"outbound|9080||{h}.default.svc.cluster.local",
                     [lb_endpoint(socket(f"10.244.{2 + i // 250}.{i % 250 + 1}", 9080),
                                  ("HEALTHY", None, "UNHEALTHY", "DEGRADED", "TIMEOUT")[i % 5])],
                     locality={"region": "us-east1", "zone": "us-east1-" + "bcd"[i % 3]})
                 for i, (h, _) in enumerate(hosts9080)]
    endpoints.append(cla("outbound|80||httpbin.default.svc.cluster.local", [
        {"endpoint": {"address": socket("10.244.1.15", 8080), "additional_addresses": [
            {"address": socket("fd00:10:244::f", 8080)}]}, "health_status": "HEALTHY"}]))
    return assemble(boot, static_clusters=[static_cluster(n) for n in STATIC_CLUSTERS], active_clusters=clusters,
                    static_lst=static_listeners(), active_lst=[outbound, inbound, http80, http9080, kube, dual,
                                                               istiod, uds],
                    rds=rds, secrets=_secrets("waypoint"), endpoints=endpoints if include_eds else None,
                    ecds=_ecds_sections(), extra_configs=[{"@type": UNKNOWN_T, "anything": {"goes": [1, 2]}}])


def spiffe_dump() -> dict:
    """A proxy federated with SPIRE: its ROOTCA is a SPIFFE trust bundle per trust domain."""
    dump = waypoint_dump(include_eds=False)
    dump["configs"] = [_secrets("spiffe") if c.get("@type") == ADMIN + "SecretsConfigDump" else c
                       for c in dump["configs"]]
    return dump


# -- /clusters?format=json -------------------------------------------------------------------------------


def clusters_json(dump: dict) -> dict:
    """What `/clusters?format=json` shows for the dump's clusters (host statuses from its EDS section)."""
    eds = next((c for c in dump["configs"] if c.get("@type") == ADMIN + "EndpointsConfigDump"), {})
    by_cluster: dict[str, dict] = {}
    for kind in ("dynamic_endpoint_configs", "static_endpoint_configs"):
        for item in eds.get(kind, []):
            by_cluster[item["endpoint_config"]["cluster_name"]] = item["endpoint_config"]
    statuses = []
    for kind, added in (("static_clusters", False), ("dynamic_active_clusters", True)):
        section = next(c for c in dump["configs"] if c.get("@type") == ADMIN + "ClustersConfigDump")
        for item in section.get(kind, []):
            name = item["cluster"]["name"]
            hosts = []
            for group in by_cluster.get(name, {}).get("endpoints", []):
                for i, ep in enumerate(group["lb_endpoints"]):
                    health: dict[str, Any] = {}
                    if ep.get("health_status"):
                        health["eds_health_status"] = ep["health_status"]
                    if ep.get("health_status") == "UNHEALTHY" and i % 2 == 1:
                        health["failed_outlier_check"] = True
                    hosts.append({"address": ep["endpoint"]["address"],
                                  "stats": [{"name": "cx_active", "type": "GAUGE"}, {"name": "rq_total", "value": "3"}],
                                  "health_status": health, "weight": 1,
                                  **({"locality": group["locality"]} if "locality" in group else {})})
            status: dict[str, Any] = {"name": name, "observability_name": name}
            if added:
                status["added_via_api"] = True
            if hosts:
                status["host_statuses"] = hosts
            status["circuit_breakers"] = {"thresholds": [{"max_connections": 4294967295}]}
            statuses.append(status)
    return {"cluster_statuses": statuses}


# -- scale (benchmarks) ------------------------------------------------------------------------------------


def big_dump(target_bytes: int = 20 * 1024 * 1024) -> dict:
    """A sidecar dump grown with services on 9080 until its JSON is about `target_bytes`."""
    probe = len(json.dumps(sidecar_dump(services=100)))
    base = len(json.dumps(sidecar_dump(services=0)))
    per_service = max(1, (probe - base) // 100)
    return sidecar_dump(services=max(0, (target_bytes - base) // per_service))


def without(dump: dict, *type_names: str) -> dict:
    """A copy of the dump without the given sections (`ClustersConfigDump`, ...)."""
    out = copy.deepcopy(dump)
    out["configs"] = [c for c in out["configs"] if c.get("@type", "").removeprefix(ADMIN) not in type_names]
    return out


def ties_dump() -> dict:
    """Many equal sort keys, where Go's unstable sort decides the order: 30 internal TCP listeners,
    listeners sharing port/address/type, a listener with 20 chains and few distinct destinations,
    and 25 route configs mixing numeric and named ones (istioctl compares only numeric names)."""
    import random

    rng = random.Random(15)
    boot = bootstrap("sidecar~10.244.1.50~ties-1.default~default.svc.cluster.local", "ties", "default")
    internal = [listener(f"internal-{i:02d}", None, [chain([tcp_proxy(f"c{i % 4}")], name=f"internal-{i:02d}")])
                for i in range(30)]
    shared = [listener(f"shared-{i:02d}", socket("0.0.0.0", 8000 + i % 3), [chain([tcp_proxy(f"s{i}")])])
              for i in range(16)]
    chains = [chain([tcp_proxy(f"dest-{i % 3}")], {"destination_port": 9000 + i}, f"chain-{i}") for i in range(20)]
    wide = listener("wide", socket("0.0.0.0", 7000), chains)
    active = internal + shared + [wide]
    rng.shuffle(active)
    names = [str(n) for n in rng.sample(range(1, 20000), 15)] + [f"route-{c}" for c in "kqbxzamfpe"]
    rng.shuffle(names)
    rds = [route_config(n, [vhost("v", ["*"], [route({"prefix": "/"}, "c0")])]) for n in names]
    return assemble(boot, static_clusters=[static_cluster(n) for n in STATIC_CLUSTERS],
                    active_clusters=[cluster(f"c{i}") for i in range(4)], static_lst=static_listeners(),
                    active_lst=active, rds=rds, secrets=_secrets("waypoint"), endpoints=[])


ALL = {"waypoint": waypoint_dump, "gateway": gateway_dump, "sidecar": sidecar_dump, "spiffe": spiffe_dump,
       "ties": ties_dump}


def write_all(directory: str) -> dict[str, str]:
    """Every fixture as `<name>.json` plus `<name>-clusters.json` in `directory`; returns name -> path."""
    import os

    paths = {}
    for name, build in ALL.items():
        dump = build()
        for suffix, doc in (("", dump), ("-clusters", clusters_json(dump))):
            path = os.path.join(directory, f"{name}{suffix}.json")
            with open(path, "w") as handle:
                json.dump(doc, handle, indent=1)
            paths[name + suffix] = path
    return paths
