"""The checks istiod's validation webhook makes on the ambient kinds (facts from Istio's validation), by field path.

Each check reports (path, message, warning?). Run after `shapes.check` found
no type errors in the spec, so values have the types the shapes say.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any, Callable

Report = Callable[[str, str, bool], None]   # (field path, message, is a warning)

ALLOWED_TARGETS = {("core", "Service"), ("networking.istio.io", "ServiceEntry"),
                   ("gateway.networking.k8s.io", "Gateway"), ("gateway.networking.k8s.io", "GatewayClass")}
_SIMPLE_ATTRIBUTES = {"source.namespace", "source.principal", "request.auth.principal", "request.auth.audiences",
                      "request.auth.presenter", "connection.sni"}
_CUSTOM_UNSUPPORTED_SOURCE = ("namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts", "trustDomains",
                              "notTrustDomains", "principals", "notPrincipals", "requestPrincipals",
                              "notRequestPrincipals")
_WASM_SCHEMES = {"", "file", "http", "https", "oci"}
_SHA256 = re.compile(r"^[a-f0-9]{64}$")


def get(obj: Any, name: str) -> Any:
    """A field by its JSON name, or by its proto (snake_case) name as protojson also reads it."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    return obj.get(_snake(name))


@functools.lru_cache(maxsize=None)
def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def items(obj: Any, name: str) -> list[Any]:
    """A repeated field ([] when absent or null)."""
    return get(obj, name) or []


# -- shared: selector and targetRefs -----------------------------------------------------------------------


def targeting(spec: dict, report: Report) -> None:
    """Only one of selector, targetRef, targetRefs; selector labels; targets of allowed kinds in the namespace."""
    selector, ref, refs = get(spec, "selector"), get(spec, "targetRef"), items(spec, "targetRefs")
    if sum((selector is not None, ref is not None, len(refs) > 0)) > 1:
        report("spec", "only one of selector, targetRef or targetRefs can be set", False)
    if selector is not None:
        labels = get(selector, "matchLabels") or {}
        for key, value in labels.items():
            if key == "":
                report("spec.selector.matchLabels", f"empty label key in {key}={value}", False)
            if "*" in key or "*" in str(value):
                report(f"spec.selector.matchLabels[{key}]", "wildcards are not supported in selectors", False)
        if not labels:
            report("spec.selector", "selector without labels selects every workload of the namespace", True)
    for path, target in ([("spec.targetRef", ref)] if ref is not None else []) + \
            [(f"spec.targetRefs[{i}]", r) for i, r in enumerate(refs)]:
        _target(target or {}, path, report)


def _target(ref: dict, path: str, report: Report) -> None:
    if not get(ref, "name"):
        report(f"{path}.name", "must be set", False)
    if get(ref, "namespace"):
        report(f"{path}.namespace", "must not be set (cross-namespace references are not supported)", False)
    group, kind = get(ref, "group") or "core", get(ref, "kind") or ""
    if (group, kind) not in ALLOWED_TARGETS:
        report(path, f"cannot target {get(ref, 'group') or ''}/{kind}; use a Service, ServiceEntry, "
                     "Gateway (gateway.networking.k8s.io) or GatewayClass", False)


# -- AuthorizationPolicy -------------------------------------------------------------------------------------


def authorization_policy(spec: dict, report: Report) -> None:
    targeting(spec, report)
    action, rules, provider = get(spec, "action") or "ALLOW", get(spec, "rules"), get(spec, "provider")
    if action in ("CUSTOM", 3):
        if not rules:
            report("spec.rules", "a CUSTOM policy without rules never applies; add an empty rule {} to apply it "
                                 "to every request", False)
        elif not get(provider, "name"):
            report("spec.provider.name", "must be set for action CUSTOM", False)
        _custom_limits(rules or [], report)
    elif provider is not None:
        report("spec.provider", f"is only for action CUSTOM, not {action}", False)
    if action in ("DENY", 1) and not rules:
        report("spec.rules", "a DENY policy without rules never applies; add an empty rule {} to deny every request",
               False)
    for index, rule in enumerate(rules or []):
        if rule is None:
            report(f"spec.rules[{index}]", "must not be null", False)
            continue
        _rule(rule, f"spec.rules[{index}]", action in ("DENY", 1), report)


def _custom_limits(rules: list, report: Report) -> None:
    for i, rule in enumerate(rules):
        for j, item in enumerate(items(rule, "from")):
            source = get(item, "source") or {}
            for name in _CUSTOM_UNSUPPORTED_SOURCE:
                if items(source, name):
                    report(f"spec.rules[{i}].from[{j}].source.{name}", "is not supported with action CUSTOM", False)
        for j, condition in enumerate(items(rule, "when")):
            key = get(condition, "key") or ""
            if key in ("source.namespace", "source.serviceAccount", "source.trustDomain", "source.principal") \
                    or key.startswith("request.auth."):
                report(f"spec.rules[{i}].when[{j}].key", f"{key} is not supported with action CUSTOM", False)


def _rule(rule: dict, path: str, deny: bool, report: Report) -> None:
    from_http_only = to_http_only = False
    for j, item in enumerate(items(rule, "from")):
        source = get(item, "source")
        where = f"{path}.from[{j}].source"
        if item is None or source is None:
            report(where, "must be set", False)
            continue
        _source(source, where, report)
        tcp = any(items(source, n) for n in ("principals", "notPrincipals", "ipBlocks", "notIpBlocks", "namespaces",
                                              "notNamespaces", "remoteIpBlocks", "notRemoteIpBlocks",
                                              "serviceAccounts", "notServiceAccounts"))
        from_http_only = from_http_only or not tcp
    has_to = False
    for j, item in enumerate(items(rule, "to")):
        operation = get(item, "operation")
        where = f"{path}.to[{j}].operation"
        if item is None or operation is None:
            report(where, "must be set", False)
            continue
        has_to = True
        _operation(operation, where, report)
        to_http_only = to_http_only or not (items(operation, "ports") or items(operation, "notPorts"))
    for j, condition in enumerate(items(rule, "when")):
        _condition(condition or {}, f"{path}.when[{j}]", report)
    if deny and ((from_http_only and not has_to) or to_http_only):
        report(path, "a DENY rule with only HTTP attributes denies all TCP traffic in its scope; name the ports "
                     "(to.operation.ports) it is for", True)


def _source(source: dict, path: str, report: Report) -> None:
    names = [n for n in source if source[n]]
    if not names:
        report(path, "must not be empty", False)
    if (items(source, "principals") or items(source, "notPrincipals") or items(source, "namespaces")
            or items(source, "notNamespaces")) and (items(source, "serviceAccounts")
                                                    or items(source, "notServiceAccounts")):
        report(path, "serviceAccounts cannot be set with namespaces or principals", False)
    for name in ("principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces",
                 "notNamespaces", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"):
        _no_empty(items(source, name), f"{path}.{name}", report)
    for name in ("ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"):
        _ips(items(source, name), f"{path}.{name}", report)
    for name in ("serviceAccounts", "notServiceAccounts"):
        _service_accounts(items(source, name), f"{path}.{name}", report)
    for name in ("trustDomains", "notTrustDomains"):
        for k, value in enumerate(items(source, name)):
            problem = "must not be empty" if not value else _bad_wildcard(value) or (
                f"a trust domain has no '/': {value!r}" if "/" in value else "")
            if problem:
                report(f"{path}.{name}[{k}]", problem, False)


def _operation(operation: dict, path: str, report: Report) -> None:
    if not any(items(operation, n) for n in ("ports", "notPorts", "methods", "notMethods", "paths", "notPaths",
                                              "hosts", "notHosts")):
        report(path, "must not be empty", False)
    for name in ("ports", "notPorts", "methods", "notMethods", "paths", "notPaths", "hosts", "notHosts"):
        _no_empty(items(operation, name), f"{path}.{name}", report)
    for name in ("ports", "notPorts"):
        _ports(items(operation, name), f"{path}.{name}", report)


def _condition(condition: dict, path: str, report: Report) -> None:
    key = get(condition, "key") or ""
    values, not_values = items(condition, "values"), items(condition, "notValues")
    if not key:
        report(f"{path}.key", "must be set", False)
        return
    if not values and not not_values:
        report(path, f"set values or notValues for key {key}", False)
        return
    for name, listed in (("values", values), ("notValues", not_values)):
        field, problem = _attribute(key, listed)
        if problem:
            report(f"{path}.{name if field == 'values' else 'key'}", problem, False)
            return


def _attribute(key: str, values: list[str]) -> tuple[str, str]:
    """What is wrong with `key` ("key", why) or its values ("values", why); ("", "") if nothing."""
    if any(v == "" for v in values):
        return "values", f"empty value for key {key}"
    if key.startswith(("request.headers", "request.auth.claims", "experimental.envoy.filters.")):
        open_at = key.find("[")
        ok = key.endswith("]") and 0 < open_at < len(key) - 2
        return ("", "") if ok else ("key", f"key {key} must have the form name[item]")
    if key in ("source.ip", "remote.ip", "destination.ip"):
        return "values", _bad_ips(values)
    if key == "destination.port":
        bad = [v for v in values if not (v.isdigit() and int(v) <= 65535)]
        return "values", f"bad port {bad[0]!r}" if bad else ""
    if key == "source.serviceAccount":
        return "values", _bad_service_account(values)
    if key == "source.trustDomain":
        return "values", next(filter(None, map(_bad_wildcard, values)), "")
    if key in _SIMPLE_ATTRIBUTES:
        return "", ""
    if key == "destination.namespace":
        return "key", f"key {key} is replaced by the policy's namespace"
    if key.startswith("destination.labels"):
        return "key", f"key {key} is replaced by the selector"
    if key in ("destination.name", "destination.user"):
        return "key", f"key {key} was only supported in v1alpha1"
    return "key", f"unknown key {key}"


def _bad_wildcard(value: str) -> str:
    count = value.count("*")
    if count > 1:
        return f"at most one wildcard, in {value!r}"
    if count == 1 and value != "*" and not (value.startswith("*") or value.endswith("*")):
        return f"a wildcard is only allowed at the start or end: {value!r}"
    return ""


def _no_empty(values: list[str], path: str, report: Report) -> None:
    for k, value in enumerate(values):
        if value == "":
            report(f"{path}[{k}]", "must not be empty", False)


def _bad_ips(values: list[str]) -> str:
    for value in values:
        try:
            if "/" in value:
                ipaddress.ip_network(value, strict=False)
            else:
                ipaddress.ip_address(value)
        except ValueError:
            return f"bad IP address or CIDR {value!r}"
    return ""


def _ips(values: list[str], path: str, report: Report) -> None:
    for k, value in enumerate(values):
        problem = _bad_ips([value]) if value else ""
        if problem:
            report(f"{path}[{k}]", problem, False)


def _ports(values: list[str], path: str, report: Report) -> None:
    for k, value in enumerate(values):
        if value and not (value.isdigit() and int(value) <= 65535):
            report(f"{path}[{k}]", f"bad port {value!r} (0-65535)", False)


def _bad_service_account(values: list[str]) -> str:
    if len(values) > 16:
        return "at most 16 service accounts"
    for value in values:
        namespace, slash, account = value.partition("/")
        if not value or "*" in value or value.count("/") > 1 or len(value) > 320 or (slash and not (namespace and account)):
            return f"bad service account {value!r}: use NAME or NAMESPACE/NAME (no wildcards)"
    return ""


def _service_accounts(values: list[str], path: str, report: Report) -> None:
    problem = _bad_service_account(values)
    if problem:
        report(path, problem, False)


# -- PeerAuthentication ----------------------------------------------------------------------------------------


def peer_authentication(spec: dict, report: Report) -> None:
    targeting({"selector": get(spec, "selector")} if get(spec, "selector") is not None else {}, report)
    ports = get(spec, "portLevelMtls")
    if ports is not None and not (get(get(spec, "selector"), "matchLabels") or {}):
        report("spec.portLevelMtls", "needs a selector with labels (a mesh- or namespace-wide policy has no ports)",
               False)
    elif ports is not None and not ports:
        report("spec.portLevelMtls", "if set, must name at least one port", False)
    for port in ports or {}:
        if not (str(port).isdigit() and 1 <= int(port) <= 65535):
            report(f"spec.portLevelMtls[{port}]", "port must be 1-65535", False)


# -- Telemetry -------------------------------------------------------------------------------------------------


def telemetry(spec: dict, report: Report) -> None:
    targeting(spec, report)
    tracing = items(spec, "tracing")
    if len(tracing) > 1:
        report("spec.tracing", "only one tracing configuration is supported", True)
    for i, item in enumerate(tracing):
        path = f"spec.tracing[{i}]"
        if item is None:
            continue
        _providers(items(item, "providers"), path, report)
        if len(items(item, "providers")) > 1:
            report(f"{path}.providers", "only one provider is supported", True)
        percentage = get(item, "randomSamplingPercentage")
        if percentage is not None and not 0 <= percentage <= 100:
            report(f"{path}.randomSamplingPercentage", "must be between 0 and 100", False)
        for name, tag in (get(item, "customTags") or {}).items():
            _custom_tag(name, tag, f"{path}.customTags[{name}]", report)
    for i, item in enumerate(items(spec, "metrics")):
        if item is None:
            continue
        _providers(items(item, "providers"), f"spec.metrics[{i}]", report)
        for j, override in enumerate(items(item, "overrides")):
            _override(override, f"spec.metrics[{i}].overrides[{j}]", report)
    for i, item in enumerate(items(spec, "accessLogging")):
        if item is not None:
            _providers(items(item, "providers"), f"spec.accessLogging[{i}]", report)


def _providers(providers: list, path: str, report: Report) -> None:
    for k, provider in enumerate(providers):
        if not get(provider, "name"):
            report(f"{path}.providers[{k}].name", "must be set", False)


def _custom_tag(name: str, tag: Any, path: str, report: Report) -> None:
    if name == "":
        report(path, "tag name must not be empty", False)
    if tag is None:
        report(path, "must not be null", False)
        return
    for kind, field in (("literal", "value"), ("header", "name"), ("environment", "name")):
        if kind in tag and not get(tag[kind], field):
            report(f"{path}.{kind}.{field}", "must not be empty", False)


def _override(override: Any, path: str, report: Report) -> None:
    if override is None:
        report(path, "must not be null", False)
        return
    for name, tag in (get(override, "tagOverrides") or {}).items():
        where = f"{path}.tagOverrides[{name}]"
        if name == "":
            report(where, "tag name should not be empty", True)
        if tag is None:
            report(where, "must not be null", False)
            continue
        operation, value = get(tag, "operation") or "UPSERT", get(tag, "value") or ""
        if operation in ("UPSERT", 0) and not value:
            report(f"{where}.value", "must be set when operation is UPSERT", False)
        if operation in ("REMOVE", 1) and value:
            report(f"{where}.value", "may only be set when operation is UPSERT", False)
    match = get(override, "match")
    if match is not None and "customMetric" in match and get(match, "customMetric") == "":
        report(f"{path}.match.customMetric", "must not be empty", False)


# -- WasmPlugin --------------------------------------------------------------------------------------------------


def wasm_plugin(spec: dict, report: Report) -> None:
    from urllib.parse import urlsplit

    targeting(spec, report)
    url = get(spec, "url") or ""
    if not url:
        report("spec.url", "must be set", False)
    else:
        scheme = urlsplit(url).scheme if "://" in url else ""
        if scheme not in _WASM_SCHEMES:
            report("spec.url", f"unsupported scheme {scheme!r}; use oci://, https://, http:// or file://", False)
    sha = get(spec, "sha256") or ""
    if sha and not _SHA256.match(sha):
        report("spec.sha256", "must be 64 characters of [a-f0-9]", False)
    if len(get(spec, "imagePullSecret") or "") > 253:
        report("spec.imagePullSecret", "must be at most 253 characters", False)
    if len(get(spec, "pluginName") or "") > 256:
        report("spec.pluginName", "must be at most 256 characters", False)
    seen: set[str] = set()
    for k, env in enumerate(items(get(spec, "vmConfig"), "env")):
        if env is None:
            continue
        name, where = get(env, "name") or "", f"spec.vmConfig.env[{k}]"
        if not name or len(name) > 256:
            report(f"{where}.name", "must be 1-256 characters", False)
        elif name in seen:
            report(f"{where}.name", f"duplicate env {name}", False)
        seen.add(name)
        if get(env, "valueFrom") in ("HOST", 1) and get(env, "value"):
            report(f"{where}.value", "may only be set when valueFrom is INLINE", False)
    for i, selector in enumerate(items(spec, "match")):
        if selector is None:
            report(f"spec.match[{i}]", "must not be null", False)
            continue
        for j, port in enumerate(items(selector, "ports")):
            number = int(get(port, "number") or 0)
            if not 1 <= number <= 65535:
                report(f"spec.match[{i}].ports[{j}].number", "must be 1-65535", False)


# -- Gateway API basics (istioctl does not check these kinds) ------------------------------------------------------


def gateway(spec: dict, report: Report) -> None:
    if not isinstance(spec.get("gatewayClassName"), str) or not spec.get("gatewayClassName"):
        report("spec.gatewayClassName", "must be set (istio-waypoint for a waypoint, istio for an ingress)", False)
    listeners = spec.get("listeners")
    if not isinstance(listeners, list) or not listeners:
        report("spec.listeners", "must list at least one listener", False)
        return
    names: set[str] = set()
    for i, listener in enumerate(listeners):
        where = f"spec.listeners[{i}]"
        if not isinstance(listener, dict):
            report(where, "must be an object", False)
            continue
        name = listener.get("name")
        if not isinstance(name, str) or not name:
            report(f"{where}.name", "must be set", False)
        elif name in names:
            report(f"{where}.name", f"duplicate listener name {name}", False)
        names.add(str(name))
        _port(listener.get("port"), f"{where}.port", report, required=True)
        if not isinstance(listener.get("protocol"), str) or not listener.get("protocol"):
            report(f"{where}.protocol", "must be set (HBONE for a waypoint; HTTP, HTTPS, TCP, TLS)", False)


def http_route(spec: dict, report: Report) -> None:
    for i, parent in enumerate(spec.get("parentRefs") or []):
        if not isinstance(parent, dict) or not parent.get("name"):
            report(f"spec.parentRefs[{i}].name", "must be set", False)
        elif "port" in parent:
            _port(parent.get("port"), f"spec.parentRefs[{i}].port", report)
    for i, rule in enumerate(spec.get("rules") or []):
        if not isinstance(rule, dict):
            report(f"spec.rules[{i}]", "must be an object", False)
            continue
        for j, backend in enumerate(rule.get("backendRefs") or []):
            where = f"spec.rules[{i}].backendRefs[{j}]"
            if not isinstance(backend, dict) or not backend.get("name"):
                report(f"{where}.name", "must be set", False)
                continue
            kind = backend.get("kind") or "Service"
            if kind == "Service" and (backend.get("group") or "") == "":
                _port(backend.get("port"), f"{where}.port", report, required=True)
        for j, match in enumerate(rule.get("matches") or []):
            path = (match or {}).get("path") if isinstance(match, dict) else None
            kind = (path or {}).get("type") if isinstance(path, dict) else None
            if kind is not None and kind not in ("Exact", "PathPrefix", "RegularExpression"):
                report(f"spec.rules[{i}].matches[{j}].path.type", f"unknown type {kind!r}; one of Exact, "
                                                                    "PathPrefix, RegularExpression", False)


def _port(value: Any, path: str, report: Report, required: bool = False) -> None:
    if value is None:
        if required:
            report(path, "must be set", False)
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        report(path, f"must be a port number 1-65535, not {value!r}", False)


CHECKS: dict[tuple[str, str], Callable[[dict, Report], None]] = {
    ("security.istio.io", "AuthorizationPolicy"): authorization_policy,
    ("security.istio.io", "PeerAuthentication"): peer_authentication,
    ("telemetry.istio.io", "Telemetry"): telemetry,
    ("extensions.istio.io", "WasmPlugin"): wasm_plugin,
    ("gateway.networking.k8s.io", "Gateway"): gateway,
    ("gateway.networking.k8s.io", "HTTPRoute"): http_route,
}
