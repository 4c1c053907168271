"""`validate -f` beside the reference istioctl's: each case file goes to both tools, and each tool must
accept or refuse it as the table says. Where they differ, the row says why; an unlisted difference fails.
Offline: both tools get a kubeconfig that points nowhere."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.parity.tools import ambientctl, istioctl

AP = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: default}\n"
PA = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: default}\n"
TM = "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t, namespace: default}\n"
WP = "apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: w, namespace: default}\n"
GW = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g, namespace: default}\n"
RT = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: default}\n"
WAYPOINT_REF = "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]"

# (case, document, istioctl accepts, ambientctl accepts, why they differ)
CASES = [
    ("ap-valid", AP + "spec:\n  " + WAYPOINT_REF + "\n  action: ALLOW\n  rules:\n  - from: [{source: {principals: "
     "[cluster.local/ns/default/sa/sleep]}}]\n    to: [{operation: {methods: [GET], ports: ['9080']}}]\n", True, True, ""),
    ("ap-v1beta1", AP.replace("/v1\n", "/v1beta1\n") + "spec: {action: ALLOW, rules: [{}]}\n", True, True, ""),
    ("ap-snake-case", AP + "spec:\n  rules: [{from: [{source: {not_principals: [x]}}]}]\n", True, True, ""),
    ("ap-bad-action", AP + "spec: {action: DENYX}\n", False, False, ""),
    ("ap-unknown-field", AP + "spec: {bogus: 1}\n", False, False, ""),
    ("ap-selector-and-targetrefs", AP + "spec:\n  selector: {matchLabels: {app: x}}\n  " + WAYPOINT_REF + "\n",
     False, False, ""),
    ("ap-target-deployment", AP + "spec: {targetRef: {kind: Deployment, group: apps, name: w}}\n", False, False, ""),
    ("ap-target-namespace", AP + "spec: {targetRef: {kind: Service, group: '', name: s, namespace: x}}\n",
     False, False, ""),
    ("ap-deny-without-rules", AP + "spec: {action: DENY}\n", False, False, ""),
    ("ap-custom-without-provider", AP + "spec: {action: CUSTOM, rules: [{}]}\n", False, False, ""),
    ("ap-provider-with-allow", AP + "spec: {action: ALLOW, provider: {name: ext}}\n", False, False, ""),
    ("ap-empty-source", AP + "spec: {rules: [{from: [{source: {}}]}]}\n", False, False, ""),
    ("ap-empty-operation", AP + "spec: {rules: [{to: [{operation: {}}]}]}\n", False, False, ""),
    ("ap-bad-port", AP + "spec: {rules: [{to: [{operation: {ports: ['x80']}}]}]}\n", False, False, ""),
    ("ap-port-number", AP + "spec: {rules: [{to: [{operation: {ports: [8080]}}]}]}\n", False, False, ""),
    ("ap-unknown-when-key", AP + "spec: {rules: [{when: [{key: source.foo, values: [a]}]}]}\n", False, False, ""),
    ("ap-header-without-name", AP + "spec: {rules: [{when: [{key: request.headers, values: [a]}]}]}\n",
     False, False, ""),
    ("ap-when-without-values", AP + "spec: {rules: [{when: [{key: source.ip}]}]}\n", False, False, ""),
    ("ap-sa-with-namespaces", AP + "spec: {rules: [{from: [{source: {namespaces: [a], serviceAccounts: [a/b]}}]}]}\n",
     False, False, ""),
    ("ap-bad-cidr", AP + "spec: {rules: [{from: [{source: {ipBlocks: [10.0.0.0/33]}}]}]}\n", False, False, ""),
    ("ap-empty-principal", AP + "spec: {rules: [{from: [{source: {principals: ['']}}]}]}\n", False, False, ""),
    ("ap-trust-domain-slash", AP + "spec: {rules: [{from: [{source: {trustDomains: [a/b]}}]}]}\n", False, False, ""),
    ("ap-deny-empty-rules-list", AP + "spec: {action: DENY, rules: []}\n", False, False, ""),
    ("ap-top-level-field", AP + "extra: 1\nspec: {}\n", False, False, ""),
    ("pa-valid", PA + "spec:\n  selector: {matchLabels: {app: x}}\n  mtls: {mode: STRICT}\n  portLevelMtls:\n"
     "    '8080': {mode: PERMISSIVE}\n", True, True, ""),
    ("pa-bad-mode", PA + "spec: {mtls: {mode: STRICTX}}\n", False, False, ""),
    ("pa-ports-without-selector", PA + "spec: {portLevelMtls: {'8080': {mode: DISABLE}}}\n", False, False, ""),
    ("pa-port-zero", PA + "spec: {selector: {matchLabels: {app: x}}, portLevelMtls: {'0': {mode: DISABLE}}}\n",
     False, False, ""),
    ("tm-valid", TM + "spec:\n  " + WAYPOINT_REF + "\n  tracing: [{providers: [{name: otel}], "
     "randomSamplingPercentage: 10}]\n  metrics: [{reportingInterval: 10s, overrides: [{match: {metric: "
     "REQUEST_COUNT}, tagOverrides: {x: {operation: REMOVE}}}]}]\n  accessLogging: [{providers: [{name: envoy}]}]\n",
     True, True, ""),
    ("tm-bad-sampling-and-provider", TM + "spec: {tracing: [{randomSamplingPercentage: 101, providers: [{name: ''}]}]}\n",
     False, False, ""),
    ("tm-upsert-without-value", TM + "spec: {metrics: [{overrides: [{tagOverrides: {x: {operation: UPSERT}}}]}]}\n",
     False, False, ""),
    ("tm-bad-metric", TM + "spec: {metrics: [{overrides: [{match: {metric: REQUESTS}}]}]}\n", False, False, ""),
    ("tm-duration-minutes", TM + "spec: {metrics: [{reportingInterval: 1m}]}\n", True, True, ""),
    ("tm-duration-words", TM + "spec: {metrics: [{reportingInterval: soon}]}\n", False, False, ""),
    ("wp-valid", WP + "spec:\n  " + WAYPOINT_REF + "\n  url: oci://ghcr.io/x/y:1\n  phase: AUTHN\n"
     "  pluginConfig: {a: 1}\n", True, True, ""),
    ("wp-ftp-and-sha", WP + "spec: {url: 'ftp://x/y.wasm', sha256: abc}\n", False, False, ""),
    ("wp-no-url", WP + "spec: {phase: AUTHN}\n", False, False, ""),
    ("wp-duplicate-env", WP + "spec: {url: 'oci://x/y', vmConfig: {env: [{name: a}, {name: a}]}}\n", False, False, ""),
    ("gw-waypoint", GW + "spec:\n  gatewayClassName: istio-waypoint\n  listeners: [{name: mesh, port: 15008, "
     "protocol: HBONE}]\n", True, True, ""),
    ("gw-no-class", GW + "spec: {listeners: [{name: mesh, port: 15008, protocol: HBONE}]}\n", True, False,
     "istioctl does not check Gateway API objects; a Gateway without gatewayClassName is refused by the API server"),
    ("gw-port-zero", GW + "spec: {gatewayClassName: istio, listeners: [{name: http, port: 0, protocol: HTTP}]}\n",
     True, False, "istioctl does not check Gateway API objects; port 0 is refused by the Gateway CRD's schema"),
    ("route-port-string", RT + "spec: {parentRefs: [{name: g}], rules: [{backendRefs: [{name: s, port: '80'}]}]}\n",
     True, False, "istioctl does not check Gateway API objects; a string port is refused by the HTTPRoute CRD's schema"),
    ("ap-unknown-version", AP.replace("/v1\n", "/v2\n") + "spec: {action: DENYX}\n", True, False,
     "istioctl treats an Istio group at an unknown version as a foreign kind and passes it; ambientctl says "
     "which versions the group serves"),
    ("vs-invalid", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec: {http: "
     "[{route: [{destination: {}}]}]}\n", False, True,
     "ambientctl validates the kinds ambient uses; a VirtualService is not checked (a stderr note says so)"),
    ("configmap", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n", True, True, ""),
    ("duplicate-key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, name: d}\n", False, False, ""),
    ("broken-yaml", "apiVersion: v1\nkind: [ConfigMap\n", False, False, ""),
]


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("validate")
    for name, text, *_ in CASES:
        (root / f"{name}.yaml").write_text(text)
    return root


@pytest.mark.parametrize("name, theirs_ok, ours_ok, reason", [(c[0], c[2], c[3], c[4]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_acceptance_matches_istioctl_or_the_listed_reason(istioctl_bin, case_dir, name, theirs_ok, ours_ok, reason):
    path = str(case_dir / f"{name}.yaml")
    theirs = istioctl(istioctl_bin, "validate", "-f", path)
    ours = ambientctl("validate", "-f", path)
    assert theirs.ok == theirs_ok, f"istioctl changed its verdict on {name}:\n{theirs}"
    assert ours.ok == ours_ok, f"ambientctl on {name}:\n{ours}"
    assert (theirs_ok != ours_ok) == bool(reason), f"{name}: a difference needs a reason, and only a difference"
    if not ours.ok:
        assert ours.exit_code == 11 and f"{path}:" in ours.stderr, ours
        problems = [line for line in ours.stderr.splitlines() if not line.startswith(("Error:", "warning:", "note:"))]
        assert problems and all(line.startswith(path) for line in problems), ours.stderr
    else:
        assert f'"{path}" is valid' in ours.stdout, ours


def test_a_directory_is_walked_as_istioctl_walks_it(istioctl_bin, case_dir):
    """Both refuse the directory (it holds invalid cases); ambientctl names every invalid file."""
    theirs = istioctl(istioctl_bin, "validate", "-f", str(case_dir))
    ours = ambientctl("validate", "-f", str(case_dir))
    assert not theirs.ok and not ours.ok
    refused = {c[0] for c in CASES if not c[3]}
    named = {Path(line.split(":", 1)[0]).stem for line in ours.stderr.splitlines()
             if line.startswith(str(case_dir))}
    assert named == refused, textwrap.shorten(ours.stderr, 2000)
