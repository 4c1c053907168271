"""Istio's CustomResourceDefinitions, with structural schemas written here in a compact form.

Field names, types, enums, served/storage versions and printer columns follow
the Istio 1.31 API reference. The fields that matter for validation (the
guide's AuthorizationPolicy, VirtualService and DestinationRule, and the
common fields of every kind) are typed; a few deep, rarely used subtrees are
left open with `x-kubernetes-preserve-unknown-fields`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Schema = dict[str, Any]

# ------------------------------------------------------------------------------------------ field types

STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
INT32: Schema = {"type": "integer", "format": "int32"}
UINT32: Schema = {"type": "integer", "minimum": 0, "maximum": 4294967295}
DOUBLE: Schema = {"type": "number", "format": "double"}
PERCENT: Schema = {"type": "number", "format": "double", "minimum": 0, "maximum": 100}
DURATION: Schema = {"type": "string", "description": "A duration such as 1s, 100ms or 1h."}
OPEN: Schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def obj(properties: dict[str, Schema], required: list[str] | None = None, open_: bool = False) -> Schema:
    """An object with typed fields (unknown fields pruned unless `open_`)."""
    node: Schema = {"type": "object", "properties": properties}
    if required:
        node["required"] = required
    if open_:
        node["x-kubernetes-preserve-unknown-fields"] = True
    return node


def arr(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def mapof(values: Schema) -> Schema:
    return {"type": "object", "additionalProperties": values}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


STRS = arr(STR)
STRMAP = mapof(STR)

# ------------------------------------------------------------------------------------------ shared messages

MATCH_LABELS_SELECTOR = obj({"matchLabels": STRMAP})
LABELS_SELECTOR = obj({"labels": STRMAP})
TARGET_REF = obj({"group": STR, "kind": STR, "name": STR, "namespace": STR}, required=["kind", "name"])
POLICY_TARGETING = {"selector": MATCH_LABELS_SELECTOR, "targetRef": TARGET_REF, "targetRefs": arr(TARGET_REF)}
PORT_SELECTOR = obj({"number": UINT32})
SERVICE_PORT = obj({"number": UINT32, "protocol": STR, "name": STR, "targetPort": UINT32})
TLS_VERSION = enum("TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3")
STRING_MATCH = obj({"exact": STR, "prefix": STR, "regex": STR})
PERCENTAGE = obj({"value": DOUBLE})
TRAFFIC_MODE = enum("CLIENT_AND_SERVER", "CLIENT", "SERVER")
PROVIDER_REF = obj({"name": STR}, required=["name"])

SERVER_TLS = obj({
    "httpsRedirect": BOOL,
    "mode": enum("PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL"),
    "serverCertificate": STR,
    "privateKey": STR,
    "caCertificates": STR,
    "caCrl": STR,
    "credentialName": STR,
    "credentialNames": STRS,
    "caCertCredentialName": STR,
    "tlsCertificates": arr(obj({"serverCertificate": STR, "privateKey": STR, "caCertificates": STR})),
    "subjectAltNames": STRS,
    "verifyCertificateSpki": STRS,
    "verifyCertificateHash": STRS,
    "minProtocolVersion": TLS_VERSION,
    "maxProtocolVersion": TLS_VERSION,
    "cipherSuites": STRS,
    "insecureSkipVerify": BOOL,
})

CLIENT_TLS = obj({
    "mode": enum("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"),
    "clientCertificate": STR,
    "privateKey": STR,
    "caCertificates": STR,
    "credentialName": STR,
    "subjectAltNames": STRS,
    "sni": STR,
    "insecureSkipVerify": BOOL,
    "caCrl": STR,
})

CONNECTION_POOL = obj({
    "tcp": obj({
        "maxConnections": INT32,
        "connectTimeout": DURATION,
        "tcpKeepalive": obj({"probes": UINT32, "time": DURATION, "interval": DURATION}),
        "maxConnectionDuration": DURATION,
        "idleTimeout": DURATION,
    }),
    "http": obj({
        "http1MaxPendingRequests": INT32,
        "http2MaxRequests": INT32,
        "maxRequestsPerConnection": INT32,
        "maxRetries": INT32,
        "idleTimeout": DURATION,
        "h2UpgradePolicy": enum("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"),
        "useClientProtocol": BOOL,
        "maxConcurrentStreams": INT32,
        "http2KeepAlive": obj({"interval": DURATION, "timeout": DURATION}),
    }),
})

OUTLIER_DETECTION = obj({
    "splitExternalLocalOriginErrors": BOOL,
    "consecutiveLocalOriginFailures": UINT32,
    "consecutiveGatewayErrors": UINT32,
    "consecutive5xxErrors": UINT32,
    "consecutiveErrors": INT32,
    "interval": DURATION,
    "baseEjectionTime": DURATION,
    "maxEjectionPercent": INT32,
    "minHealthPercent": INT32,
    "outlierDetectionHttpErrorCodes": arr({"type": "integer", "minimum": 0, "maximum": 599}),
})

LOAD_BALANCER = obj({
    "simple": enum("UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"),
    "consistentHash": obj({
        "httpHeaderName": STR,
        "httpCookie": obj({"name": STR, "path": STR, "ttl": DURATION}, required=["name"], open_=True),
        "useSourceIp": BOOL,
        "httpQueryParameterName": STR,
        "ringHash": obj({"minimumRingSize": {"type": "integer", "minimum": 0}}),
        "maglev": obj({"tableSize": {"type": "integer", "minimum": 0}}),
        "minimumRingSize": {"type": "integer", "minimum": 0},
    }),
    "localityLbSetting": OPEN,
    "zoneAwareLbSetting": OPEN,
    "warmupDurationSecs": DURATION,
    "warmup": obj({"duration": DURATION, "minimumPercent": PERCENT, "aggression": DOUBLE}, required=["duration"]),
})


# Which traffic a Wasm or Lua filter applies to, and a Wasm module's fields after its url:
# shared by WasmPlugin and TrafficExtension's `wasm`.
PLUGIN_MATCH = arr(obj({
    "mode": enum("UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER"),
    "ports": arr(obj({"number": {"type": "integer", "minimum": 1, "maximum": 65535}}, required=["number"])),
}))
WASM_MODULE: dict[str, Schema] = {
    "sha256": STR,
    "imagePullPolicy": enum("UNSPECIFIED_POLICY", "IfNotPresent", "Always"),
    "imagePullSecret": STR,
    "verificationKey": STR,
    "pluginConfig": OPEN,
    "pluginName": STR,
}


def _traffic_policy() -> Schema:
    per_port = obj({
        "port": PORT_SELECTOR,
        "loadBalancer": LOAD_BALANCER,
        "connectionPool": CONNECTION_POOL,
        "outlierDetection": OUTLIER_DETECTION,
        "tls": CLIENT_TLS,
    })
    return obj({
        "loadBalancer": LOAD_BALANCER,
        "connectionPool": CONNECTION_POOL,
        "outlierDetection": OUTLIER_DETECTION,
        "tls": CLIENT_TLS,
        "portLevelSettings": arr(per_port),
        "tunnel": obj({"protocol": STR, "targetHost": STR, "targetPort": UINT32}, required=["targetHost", "targetPort"]),
        "proxyProtocol": obj({"version": enum("V1", "V2")}),
        "retryBudget": obj({"percent": PERCENT, "minRetryConcurrency": UINT32, "budgetInterval": DURATION}),
    })


TRAFFIC_POLICY = _traffic_policy()

DESTINATION = obj({"host": STR, "subset": STR, "port": PORT_SELECTOR}, required=["host"])
HEADER_OPERATIONS = obj({"set": STRMAP, "add": STRMAP, "remove": STRS})
HEADERS = obj({"request": HEADER_OPERATIONS, "response": HEADER_OPERATIONS})
ROUTE_DESTINATION = obj({"destination": DESTINATION, "weight": INT32}, required=["destination"])
HTTP_ROUTE_DESTINATION = obj({"destination": DESTINATION, "weight": INT32, "headers": HEADERS}, required=["destination"])

HTTP_MATCH = obj({
    "name": STR,
    "uri": STRING_MATCH,
    "scheme": STRING_MATCH,
    "method": STRING_MATCH,
    "authority": STRING_MATCH,
    "headers": mapof(STRING_MATCH),
    "port": UINT32,
    "sourceLabels": STRMAP,
    "gateways": STRS,
    "queryParams": mapof(STRING_MATCH),
    "ignoreUriCase": BOOL,
    "withoutHeaders": mapof(STRING_MATCH),
    "sourceNamespace": STR,
    "statPrefix": STR,
})

HTTP_ROUTE = obj({
    "name": STR,
    "match": arr(HTTP_MATCH),
    "route": arr(HTTP_ROUTE_DESTINATION),
    "redirect": obj({
        "uri": STR,
        "authority": STR,
        "port": UINT32,
        "derivePort": enum("FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"),
        "scheme": STR,
        "redirectCode": UINT32,
    }),
    "directResponse": obj({"status": UINT32, "body": obj({"string": STR, "bytes": {"type": "string", "format": "byte"}})},
                          required=["status"]),
    "delegate": obj({"name": STR, "namespace": STR}),
    "rewrite": obj({"uri": STR, "authority": STR, "uriRegexRewrite": obj({"match": STR, "rewrite": STR})}),
    "timeout": DURATION,
    "retries": obj({
        "attempts": INT32,
        "perTryTimeout": DURATION,
        "retryOn": STR,
        "retryRemoteLocalities": BOOL,
        "retryIgnorePreviousHosts": BOOL,
        "backoff": DURATION,
    }),
    "fault": obj({
        "delay": obj({"fixedDelay": DURATION, "exponentialDelay": DURATION, "percentage": PERCENTAGE, "percent": INT32}),
        "abort": obj({"httpStatus": INT32, "grpcStatus": STR, "http2Error": STR, "percentage": PERCENTAGE}),
    }),
    "mirror": DESTINATION,
    "mirrors": arr(obj({"destination": DESTINATION, "percentage": PERCENTAGE}, required=["destination"])),
    "mirrorPercentage": PERCENTAGE,
    "mirrorPercent": UINT32,
    "mirror_percent": UINT32,
    "corsPolicy": obj({
        "allowOrigin": STRS,
        "allowOrigins": arr(STRING_MATCH),
        "allowMethods": STRS,
        "allowHeaders": STRS,
        "exposeHeaders": STRS,
        "maxAge": DURATION,
        "allowCredentials": BOOL,
        "unmatchedPreflights": enum("UNSPECIFIED", "FORWARD", "IGNORE"),
    }),
    "headers": HEADERS,
})

L4_MATCH = {"destinationSubnets": STRS, "port": UINT32, "sourceLabels": STRMAP, "gateways": STRS, "sourceNamespace": STR}
WORKLOAD_ENTRY = obj({
    "address": STR,
    "ports": mapof(UINT32),
    "labels": STRMAP,
    "network": STR,
    "locality": STR,
    "weight": UINT32,
    "serviceAccount": STR,
})

# ------------------------------------------------------------------------------------------ kinds' specs

SPECS: dict[str, Schema] = {
    "VirtualService": obj({
        "hosts": STRS,
        "gateways": STRS,
        "http": arr(HTTP_ROUTE),
        "tls": arr(obj({
            "match": arr(obj({"sniHosts": STRS, **L4_MATCH}, required=["sniHosts"])),
            "route": arr(ROUTE_DESTINATION),
        }, required=["match"])),
        "tcp": arr(obj({"match": arr(obj({"sourceSubnet": STR, **L4_MATCH})), "route": arr(ROUTE_DESTINATION)})),
        "exportTo": STRS,
    }),
    "DestinationRule": obj({
        "host": STR,
        "trafficPolicy": TRAFFIC_POLICY,
        "subsets": arr(obj({"name": STR, "labels": STRMAP, "trafficPolicy": TRAFFIC_POLICY}, required=["name"])),
        "exportTo": STRS,
        "workloadSelector": MATCH_LABELS_SELECTOR,
    }, required=["host"]),
    "Gateway": obj({
        "servers": arr(obj({
            "port": obj({"number": UINT32, "protocol": STR, "name": STR, "targetPort": UINT32},
                        required=["number", "protocol", "name"]),
            "bind": STR,
            "hosts": STRS,
            "tls": SERVER_TLS,
            "defaultEndpoint": STR,
            "name": STR,
        }, required=["port", "hosts"])),
        "selector": STRMAP,
    }),
    "ServiceEntry": obj({
        "hosts": STRS,
        "addresses": STRS,
        "ports": arr(obj({"number": UINT32, "protocol": STR, "name": STR, "targetPort": UINT32},
                         required=["number", "name"])),
        "location": enum("MESH_EXTERNAL", "MESH_INTERNAL"),
        "resolution": enum("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"),
        "endpoints": arr(WORKLOAD_ENTRY),
        "workloadSelector": LABELS_SELECTOR,
        "exportTo": STRS,
        "subjectAltNames": STRS,
    }, required=["hosts"]),
    "Sidecar": obj({
        "workloadSelector": LABELS_SELECTOR,
        "ingress": arr(obj({
            "port": SERVICE_PORT,
            "bind": STR,
            "captureMode": enum("DEFAULT", "IPTABLES", "NONE"),
            "defaultEndpoint": STR,
            "tls": SERVER_TLS,
            "connectionPool": CONNECTION_POOL,
        }, required=["port"])),
        "egress": arr(obj({
            "port": SERVICE_PORT,
            "bind": STR,
            "captureMode": enum("DEFAULT", "IPTABLES", "NONE"),
            "hosts": STRS,
        }, required=["hosts"])),
        "inboundConnectionPool": CONNECTION_POOL,
        "outboundTrafficPolicy": obj({
            "mode": enum("REGISTRY_ONLY", "ALLOW_ANY"),
            "egressProxy": obj({"host": STR, "subset": STR, "port": PORT_SELECTOR}, required=["host"]),
        }),
    }),
    "WorkloadEntry": WORKLOAD_ENTRY,
    "WorkloadGroup": obj({
        "metadata": obj({"labels": STRMAP, "annotations": STRMAP}),
        "template": WORKLOAD_ENTRY,
        "probe": obj({
            "initialDelaySeconds": INT32,
            "timeoutSeconds": INT32,
            "periodSeconds": INT32,
            "successThreshold": INT32,
            "failureThreshold": INT32,
            "httpGet": obj({
                "path": STR,
                "port": UINT32,
                "host": STR,
                "scheme": STR,
                "httpHeaders": arr(obj({"name": STR, "value": STR})),
            }, required=["port"]),
            "tcpSocket": obj({"host": STR, "port": UINT32}, required=["port"]),
            "exec": obj({"command": STRS}, required=["command"]),
            "grpc": obj({"port": UINT32, "service": STR}),
        }),
    }, required=["template"]),
    "EnvoyFilter": obj({
        "workloadSelector": LABELS_SELECTOR,
        "targetRefs": arr(TARGET_REF),
        "configPatches": arr(obj({
            "applyTo": enum("INVALID", "LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER",
                            "ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE", "CLUSTER", "EXTENSION_CONFIG",
                            "BOOTSTRAP", "LISTENER_FILTER"),
            "match": obj({
                "context": enum("ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY", "WAYPOINT"),
                "proxy": OPEN,
                "listener": OPEN,
                "routeConfiguration": OPEN,
                "cluster": OPEN,
                "waypoint": OPEN,
            }),
            "patch": obj({
                "operation": enum("INVALID", "MERGE", "ADD", "REMOVE", "INSERT_BEFORE", "INSERT_AFTER",
                                  "INSERT_FIRST", "REPLACE", "MERGE_AND_REPLACE_LIST"),
                "value": OPEN,
                "filterClass": enum("UNSPECIFIED", "AUTHN", "AUTHZ", "STATS"),
            }),
        })),
        "priority": INT32,
    }),
    "ProxyConfig": obj({
        "selector": MATCH_LABELS_SELECTOR,
        "concurrency": {**INT32, "nullable": True},
        "environmentVariables": STRMAP,
        "image": obj({"imageType": STR}),
    }),
    "AuthorizationPolicy": obj({
        **POLICY_TARGETING,
        "rules": arr(obj({
            "from": arr(obj({"source": obj({name: STRS for name in (
                "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces",
                "notNamespaces", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks",
                "serviceAccounts", "notServiceAccounts", "trustDomains", "notTrustDomains",
            )})})),
            "to": arr(obj({"operation": obj({name: STRS for name in (
                "hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths",
            )})})),
            "when": arr(obj({"key": STR, "values": STRS, "notValues": STRS}, required=["key"])),
        })),
        "action": enum("ALLOW", "DENY", "AUDIT", "CUSTOM"),
        "provider": obj({"name": STR}),
    }),
    "PeerAuthentication": obj({
        "selector": MATCH_LABELS_SELECTOR,
        "mtls": obj({"mode": enum("UNSET", "DISABLE", "PERMISSIVE", "STRICT")}),
        "portLevelMtls": mapof(obj({"mode": enum("UNSET", "DISABLE", "PERMISSIVE", "STRICT")})),
    }),
    "RequestAuthentication": obj({
        **POLICY_TARGETING,
        "jwtRules": arr(obj({
            "issuer": STR,
            "audiences": STRS,
            "jwksUri": STR,
            "jwks_uri": STR,
            "jwks": STR,
            "fromHeaders": arr(obj({"name": STR, "prefix": STR}, required=["name"])),
            "fromParams": STRS,
            "fromCookies": STRS,
            "outputPayloadToHeader": STR,
            "forwardOriginalToken": BOOL,
            "outputClaimToHeaders": arr(obj({"header": STR, "claim": STR}, required=["header", "claim"])),
            "timeout": DURATION,
            "spaceDelimitedClaims": STRS,
        })),
    }),
    "Telemetry": obj({
        **POLICY_TARGETING,
        "tracing": arr(obj({
            "match": obj({"mode": TRAFFIC_MODE}),
            "providers": arr(PROVIDER_REF),
            "randomSamplingPercentage": {**PERCENT, "nullable": True},
            "disableSpanReporting": {**BOOL, "nullable": True},
            "customTags": mapof(obj({
                "literal": obj({"value": STR}, required=["value"]),
                "environment": obj({"name": STR, "defaultValue": STR}, required=["name"]),
                "header": obj({"name": STR, "defaultValue": STR}, required=["name"]),
                "formatter": obj({"value": STR}, required=["value"]),
            })),
            "useRequestIdForTraceSampling": {**BOOL, "nullable": True},
            "enableIstioTags": {**BOOL, "nullable": True},
            "disableContextPropagation": {**BOOL, "nullable": True},
        })),
        "metrics": arr(obj({
            "providers": arr(PROVIDER_REF),
            "overrides": arr(obj({
                "match": obj({
                    "metric": enum("ALL_METRICS", "REQUEST_COUNT", "REQUEST_DURATION", "REQUEST_SIZE", "RESPONSE_SIZE",
                                   "TCP_OPENED_CONNECTIONS", "TCP_CLOSED_CONNECTIONS", "TCP_SENT_BYTES",
                                   "TCP_RECEIVED_BYTES", "GRPC_REQUEST_MESSAGES", "GRPC_RESPONSE_MESSAGES"),
                    "customMetric": STR,
                    "mode": TRAFFIC_MODE,
                }),
                "disabled": {**BOOL, "nullable": True},
                "tagOverrides": mapof(obj({"operation": enum("UPSERT", "REMOVE"), "value": STR})),
            })),
            "reportingInterval": DURATION,
        })),
        "accessLogging": arr(obj({
            "match": obj({"mode": TRAFFIC_MODE}),
            "providers": arr(PROVIDER_REF),
            "disabled": {**BOOL, "nullable": True},
            "filter": obj({"expression": STR}),
        })),
    }),
    "WasmPlugin": obj({
        **POLICY_TARGETING,
        "url": STR,
        **WASM_MODULE,
        "phase": enum("UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"),
        "priority": {**INT32, "nullable": True},
        "vmConfig": obj({"env": arr(obj({"name": STR, "value": STR, "valueFrom": enum("INLINE", "HOST")},
                                        required=["name"]))}),
        "match": PLUGIN_MATCH,
        "type": enum("UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK"),
        "failStrategy": enum("FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"),
    }, required=["url"]),
    # An HTTP/network filter for sidecars, gateways and waypoints: exactly one of `wasm` (a Wasm module,
    # WasmPlugin's fields) or `lua` (inline Lua source).
    "TrafficExtension": {
        **obj({
            "selector": MATCH_LABELS_SELECTOR,
            "targetRefs": {**arr(TARGET_REF), "maxItems": 16},
            "phase": enum("UNSPECIFIED", "AUTHN", "AUTHZ", "STATS"),
            "priority": {**INT32, "nullable": True},
            "match": PLUGIN_MATCH,
            "wasm": obj({
                "url": {**STR, "minLength": 1},
                **WASM_MODULE,
                "type": enum("UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK"),
                "failStrategy": enum("FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"),
                "vmConfig": obj({"env": {**arr(obj({"name": STR, "value": STR, "valueFrom": enum("INLINE", "HOST")},
                                                   required=["name"])), "maxItems": 256}}),
            }, required=["url"]),
            "lua": obj({"inlineCode": {**STR, "minLength": 1}}, required=["inlineCode"]),
        }),
        "x-kubernetes-validations": [
            {"rule": "has(self.wasm) != has(self.lua)", "message": "set exactly one of wasm or lua"},
            {"rule": "!(has(self.selector) && has(self.targetRefs))", "message": "set selector or targetRefs, not both"},
        ],
    },
}

# ------------------------------------------------------------------------------------------ definitions


@dataclass(frozen=True)
class CrdInfo:
    """Names, versions (served order, storage first as Istio lists them) and printer columns of one CRD."""

    kind: str
    group: str
    plural: str
    versions: tuple[str, ...]
    storage: str
    short_names: tuple[str, ...] = ()
    columns: tuple[tuple[str, str, str, str], ...] = ()  # (name, jsonPath, type, description)

    @property
    def name(self) -> str:
        return f"{self.plural}.{self.group}"


AGE = ("Age", ".metadata.creationTimestamp", "date",
       "CreationTimestamp is a timestamp representing the server time when this object was created.")
NETWORKING_VERSIONS = ("v1", "v1alpha3", "v1beta1")
SECURITY_VERSIONS = ("v1", "v1beta1")

CRDS: tuple[CrdInfo, ...] = (
    CrdInfo("WasmPlugin", "extensions.istio.io", "wasmplugins", ("v1alpha1",), "v1alpha1", columns=(AGE,)),
    CrdInfo("TrafficExtension", "extensions.istio.io", "trafficextensions", ("v1alpha1",), "v1alpha1", columns=(AGE,)),
    CrdInfo("DestinationRule", "networking.istio.io", "destinationrules", NETWORKING_VERSIONS, "v1", ("dr",),
            (("Host", ".spec.host", "string", "The name of a service from the service registry"), AGE)),
    CrdInfo("EnvoyFilter", "networking.istio.io", "envoyfilters", ("v1alpha3",), "v1alpha3"),
    CrdInfo("Gateway", "networking.istio.io", "gateways", NETWORKING_VERSIONS, "v1", ("gw",)),
    CrdInfo("ProxyConfig", "networking.istio.io", "proxyconfigs", ("v1beta1",), "v1beta1"),
    CrdInfo("ServiceEntry", "networking.istio.io", "serviceentries", NETWORKING_VERSIONS, "v1", ("se",),
            (("Hosts", ".spec.hosts", "string", "The hosts associated with the ServiceEntry"),
             ("Location", ".spec.location", "string", "Whether the service is external to the mesh or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL)"),
             ("Resolution", ".spec.resolution", "string", "Service resolution mode for the hosts (NONE, STATIC, or DNS)"),
             AGE)),
    CrdInfo("Sidecar", "networking.istio.io", "sidecars", NETWORKING_VERSIONS, "v1"),
    CrdInfo("VirtualService", "networking.istio.io", "virtualservices", NETWORKING_VERSIONS, "v1", ("vs",),
            (("Gateways", ".spec.gateways", "string", "The names of gateways and sidecars that should apply these routes"),
             ("Hosts", ".spec.hosts", "string", "The destination hosts to which traffic is being sent"),
             AGE)),
    CrdInfo("WorkloadEntry", "networking.istio.io", "workloadentries", NETWORKING_VERSIONS, "v1", ("we",),
            (AGE, ("Address", ".spec.address", "string", "Address associated with the network endpoint."))),
    CrdInfo("WorkloadGroup", "networking.istio.io", "workloadgroups", NETWORKING_VERSIONS, "v1", ("wg",), (AGE,)),
    CrdInfo("AuthorizationPolicy", "security.istio.io", "authorizationpolicies", SECURITY_VERSIONS, "v1", ("ap",),
            (("Action", ".spec.action", "string", "The operation to take."), AGE)),
    CrdInfo("PeerAuthentication", "security.istio.io", "peerauthentications", SECURITY_VERSIONS, "v1", ("pa",),
            (("Mode", ".spec.mtls.mode", "string", "Defines the mTLS mode used for peer authentication."), AGE)),
    CrdInfo("RequestAuthentication", "security.istio.io", "requestauthentications", SECURITY_VERSIONS, "v1", ("ra",)),
    CrdInfo("Telemetry", "telemetry.istio.io", "telemetries", ("v1", "v1alpha1"), "v1alpha1", ("telemetry",), (AGE,)),
)


def crd_object(info: CrdInfo) -> dict[str, Any]:
    """One CRD as a plain object; each version gets its own copy of the schema."""
    schema = {
        "type": "object",
        "properties": {
            "spec": {**SPECS[info.kind], "description": f"Specification of the {info.kind}. See istio.io/latest/docs/reference/config."},
            "status": {**OPEN},
        },
    }
    versions = []
    for version in info.versions:
        entry: dict[str, Any] = {"name": version}
        if info.columns:
            entry["additionalPrinterColumns"] = [
                {"name": name, "jsonPath": path, "type": kind, "description": text}
                for name, path, kind, text in info.columns
            ]
        entry["schema"] = {"openAPIV3Schema": copy.deepcopy(schema)}
        entry.update({"served": True, "storage": version == info.storage, "subresources": {"status": {}}})
        versions.append(entry)
    names: dict[str, Any] = {
        "categories": ["istio-io", f"{info.group.split('.')[0]}-istio-io"],
        "kind": info.kind,
        "listKind": f"{info.kind}List",
        "plural": info.plural,
    }
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    names["singular"] = info.kind.lower()
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": info.name, "labels": {"app.kubernetes.io/part-of": "istio"}},
        "spec": {"group": info.group, "names": names, "scope": "Namespaced", "versions": versions},
    }


@lru_cache(maxsize=1)
def _all_crds() -> tuple[dict[str, Any], ...]:
    return tuple(crd_object(info) for info in CRDS)


def istio_crds() -> list[dict[str, Any]]:
    """Fresh copies of every Istio CRD (callers add labels), sharing no sub-objects."""
    return json.loads(_crds_json())


@lru_cache(maxsize=1)
def _crds_json() -> str:
    return json.dumps(list(_all_crds()))


def crd_names() -> list[str]:
    """`plural.group` of every CRD, for wait_crds_established."""
    return [info.name for info in CRDS]
