"""The bad-input corpus: every command and option fed what a user (or a script) can get wrong.

Each `Case` is an argv, optional files to create first (`{tmp}` in argv is the
directory they are written to), the exit codes it may end with and a word the
one `Error:` line must contain. Cases are GENERATED from small tables (hostile
--set texts x the commands that take --set, broken overlays x the commands
that take -f, broken dumps x every dump reader, bad names x every name flag),
so adding a command or a hostile input adds a row, not a test.

`hostile=True` cases (huge, deeply nested, alias bombs) run in a subprocess
under an address-space limit and a timeout; the rest run in-process.

All cases run with KUBECONFIG pointing at a dead API server (127.0.0.1:1): a
command that reaches for the cluster before checking its input ends with 5
(UNREACHABLE) instead of 11/2, and the case fails. That is the point.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Callable, Union

USAGE = 2
INVALID_INPUT = 11

# What a case's file is: literal bytes, or a function that writes the file (for huge ones).
FileContent = Union[bytes, Callable[[str], None]]


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    expect: frozenset = frozenset({INVALID_INPUT})
    needle: str = ""  # lower-case text the Error line must contain
    files: tuple[tuple[str, FileContent], ...] = ()
    stdin: str = ""
    hostile: bool = False
    category: str = ""

    def materialise(self, tmp: str) -> list[str]:
        """Write the case's files under `tmp`; the argv with `{tmp}` filled in."""
        for name, content in self.files:
            path = os.path.join(tmp, name)
            if callable(content):
                content(path)
            else:
                with open(path, "wb") as handle:
                    handle.write(content)
        return [arg.replace("{tmp}", tmp) for arg in self.argv]


CASES: list[Case] = []


def add(category: str, id: str, argv: list[str], *, expect: set[int] | int = INVALID_INPUT, needle: str = "",
        files: dict[str, FileContent] | None = None, stdin: str = "", hostile: bool = False) -> None:
    codes = frozenset({expect} if isinstance(expect, int) else expect)
    CASES.append(Case(f"{category}:{id}", tuple(argv), codes, needle.lower(), tuple((files or {}).items()),
                      stdin, hostile, category))


# ------------------------------------------------------------------------------------ --set

SET_COMMANDS: list[list[str]] = [
    ["manifest", "generate"],
    ["profile", "dump"],
    ["install", "-y"],
    ["verify-install"],
]

# (id, --set text, needle)
HOSTILE_SETS: list[tuple[str, str, str]] = [
    ("no-equals", "profile", "no '='"),
    ("only-equals", "=", "empty"),
    ("empty-path", "=ambient", "empty"),
    ("blank-path", "   =1", "empty"),
    ("double-dot", "a..b=1", "malformed"),
    ("leading-dot", ".profile=ambient", "malformed"),
    ("trailing-dot", "values.=1", "malformed"),
    ("values-dot-10k", "values." + "." * 10_000 + "=1", "malformed"),
    ("values-then-10k-junk", "values.a" + "!" * 10_000 + "=1", "malformed"),
    ("bad-selector-x", "components.ingressGateways[x].enabled=1", "selector"),
    ("unclosed-name-selector", "components.ingressGateways[name:.enabled=false", "unbalanced"),
    ("unclosed-bracket", "components.ingressGateways[0.enabled=true", "unbalanced"),
    ("stray-close", "components.ingressGateways]0[.enabled=true", "unbalanced"),
    ("empty-brackets", "components.ingressGateways[].enabled=true", "selector"),
    ("selector-no-value", "components.ingressGateways[name:].enabled=true", "selector"),
    ("negative-index", "components.ingressGateways[-1].enabled=true", "selector"),
    ("huge-index", "components.ingressGateways[99999999999].enabled=true", "selector"),
    ("index-past-end", "components.ingressGateways[7].enabled=true", "out of range"),
    ("missing-gateway-name", "components.ingressGateways[name:nope].enabled=false", "no item"),
    ("unknown-top", "nosuch=1", "unknown"),
    ("typo-component", "components.ztunel.enabled=true", "did you mean"),
    ("unknown-component-field", "components.pilot.enabeld=true", "unknown"),
    ("bool-gets-text", "components.cni.enabled=maybe", "true or false"),
    ("bool-gets-number", "components.cni.enabled=1", "true or false"),
    ("int-gets-text", "components.pilot.k8s.replicaCount=two", "whole number"),
    ("int-gets-float", "components.pilot.k8s.replicaCount=1.5", "whole number"),
    ("map-gets-scalar", "components.pilot=true", "not a single value"),
    ("list-gets-scalar", "components.ingressGateways=none", "not a single value"),
    ("index-into-map", "components[0].enabled=true", "not a list"),
    ("field-of-scalar", "profile.name=ambient", "no field"),
    ("string-gets-list", "hub={a,b}", "single value"),
    ("unknown-profile", "profile=nosuch", "unknown profile"),
    ("profile-path-traversal", "profile=../../../etc/passwd", "profile"),
    ("unicode-key", "values.pilöt.env.A=1", "malformed"),
    ("emoji-key", "values.\U0001F4A5=1", "malformed"),
    ("rtl-override-key", "values.a\u202eb=1", "malformed"),
    ("control-char-key", "values.a\x01b=1", "malformed"),
    ("bell-tab-key", "values.\a\t=1", "malformed"),
    ("newline-key", "values.a\nb=1", "malformed"),
    ("escape-seq-key", "values.\x1b[31mred=1", "malformed"),
    ("non-utf8-key", "values.\udcff\udcfe=1", "malformed"),
    ("non-utf8-value", "values.global.hub=\udcff", "utf-8"),
    ("spaces-in-key", "values.a b=1", "malformed"),
    ("spec-alone", "spec=1", "spec"),
    ("bad-revision", "revision=Bad_Rev", "revision"),
    ("bad-namespace", "namespace=../kube-system", "namespace"),
]

for command in SET_COMMANDS:
    for set_id, text, needle in HOSTILE_SETS:
        add("set", f"{command[0]}:{set_id}", [*command, "--set", text], needle=needle)

for command in SET_COMMANDS:
    add("set", f"{command[0]}:missing-value", [*command, "--set"], expect=USAGE, needle="requires an argument")

# ------------------------------------------------------------------------------------ -f overlays

IOP_HEAD = b"apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n"


def _deep_flow_yaml(levels: int) -> Callable[[str], None]:
    def write(path: str) -> None:
        with open(path, "w") as handle:
            handle.write("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  values: ")
            handle.write("{a: " * levels + "1" + "}" * levels + "\n")
    return write


def _deep_list_yaml(levels: int) -> Callable[[str], None]:
    def write(path: str) -> None:
        with open(path, "w") as handle:
            handle.write("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  values:\n    a: ")
            handle.write("[" * levels + "]" * levels + "\n")
    return write


def _huge_yaml(megabytes: int) -> Callable[[str], None]:
    def write(path: str) -> None:
        line = b"    k%08d: " + b"x" * 100 + b"\n"
        with open(path, "wb") as handle:
            handle.write(IOP_HEAD + b"spec:\n  values:\n")
            written, i = 0, 0
            while written < megabytes * 1024 * 1024:
                chunk = line % i
                handle.write(chunk)
                written += len(chunk)
                i += 1
    return write


def _billion_laughs() -> bytes:
    lines = ["apiVersion: install.istio.io/v1alpha1", "kind: IstioOperator", "spec:", "  values:",
             '    l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*l{level - 1}"] * 9)
        lines.append(f"    l{level}: &l{level} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def _quadratic_aliases() -> bytes:
    """Many aliases of one mid-sized anchor: linear text, quadratic expansion."""
    anchor = "    base: &b {" + ", ".join(f"k{i}: {i}" for i in range(2000)) + "}\n"
    refs = "".join(f"    r{i}: *b\n" for i in range(2000))
    return IOP_HEAD + b"spec:\n  values:\n" + anchor.encode() + refs.encode()


# (id, content, needle); content None means "no file" (the path does not exist)
BAD_OVERLAYS: list[tuple[str, FileContent | None, str]] = [
    ("missing-file", None, "no such file"),
    ("empty", b"", "empty"),
    ("only-comments", b"# nothing here\n", "empty"),
    ("invalid-yaml-indent", IOP_HEAD + b"spec:\n  values:\n    a: 1\n   b: 2\n", "not valid yaml"),
    ("invalid-yaml-tab", IOP_HEAD + b"spec:\n\tvalues: {}\n", "not valid yaml"),
    ("unclosed-flow", IOP_HEAD + b"spec: {values: {a: 1}\n", "not valid yaml"),
    ("unclosed-quote", IOP_HEAD + b'spec:\n  hub: "docker.io\n', "not valid yaml"),
    ("scalar-doc", b"just a string\n", "not an istiooperator"),
    ("list-doc", b"- a\n- b\n", "not an istiooperator"),
    ("number-doc", b"42\n", "not an istiooperator"),
    ("wrong-kind", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "not an istiooperator"),
    ("wrong-api-version", b"apiVersion: install.istio.io/v2\nkind: IstioOperator\n", "not an istiooperator"),
    ("no-kind", b"apiVersion: install.istio.io/v1alpha1\nspec: {}\n", "not an istiooperator"),
    ("two-documents", IOP_HEAD + b"---\n" + IOP_HEAD, "2 yaml documents"),
    ("unknown-top-field", IOP_HEAD + b"specs: {}\n", "unknown top-level"),
    ("unknown-spec-field", IOP_HEAD + b"spec:\n  componets: {}\n", "unknown field"),
    ("spec-is-list", IOP_HEAD + b"spec: [1, 2]\n", "must be a map"),
    ("components-is-string", IOP_HEAD + b"spec:\n  components: cni\n", "must be a map"),
    ("enabled-is-string", IOP_HEAD + b"spec:\n  components:\n    cni:\n      enabled: maybe\n", "true or false"),
    ("replicas-is-string", IOP_HEAD + b"spec:\n  components:\n    pilot:\n      k8s:\n        replicaCount: two\n",
     "whole number"),
    ("gateways-not-list", IOP_HEAD + b"spec:\n  components:\n    ingressGateways: {name: x}\n", "must be a list"),
    ("hub-is-map", IOP_HEAD + b"spec:\n  hub: {a: 1}\n", "single value"),
    ("non-utf8-bytes", IOP_HEAD + b"spec:\n  hub: \xff\xfe\xfa\n", "utf-8"),
    ("utf16-bom", "\ufeffapiVersion: x\n".encode("utf-16"), "utf-8"),
    ("binary-garbage", bytes(range(256)) * 4, "utf-8"),
    ("nul-bytes", IOP_HEAD + b"spec:\n  hub: a\x00b\n", "yaml"),
    ("python-tag", IOP_HEAD + b"spec: !!python/object/apply:os.system ['echo pwned']\n", "not valid yaml"),
    ("custom-tag", IOP_HEAD + b"spec: !vault secret/x\n", "not valid yaml"),
    ("directory", None, "directory"),
    ("bad-profile-in-file", IOP_HEAD + b"spec:\n  profile: nosuch\n", "unknown profile"),
    ("bad-namespace-in-file", IOP_HEAD + b"spec:\n  namespace: Bad_NS\n", "namespace"),
    ("bad-revision-in-file", IOP_HEAD + b"spec:\n  revision: Bad_Rev\n", "revision"),
    ("no-file-name", None, "no such file"),
]

HOSTILE_OVERLAYS: list[tuple[str, FileContent, str]] = [
    ("huge-50mb", _huge_yaml(50), "over the 10 mb limit"),
    ("deep-flow-10k", _deep_flow_yaml(10_000), "nested too deeply"),
    ("deep-list-10k", _deep_list_yaml(10_000), "nested too deeply"),
    ("billion-laughs", _billion_laughs(), "aliases expand"),
    ("quadratic-aliases", _quadratic_aliases(), "aliases expand"),
]

OVERLAY_COMMANDS: list[list[str]] = [
    ["manifest", "generate"],
    ["profile", "dump"],
    ["install", "-y"],
    ["verify-install"],
]

for command in OVERLAY_COMMANDS:
    for overlay_id, content, needle in BAD_OVERLAYS:
        files: dict[str, FileContent] = {}
        target = "{tmp}/overlay.yaml"
        if overlay_id == "directory":
            target = "{tmp}"
        elif overlay_id == "no-file-name":
            target = "{tmp}/sub/"
        elif content is not None:
            files["overlay.yaml"] = content
        add("overlay", f"{command[0]}:{overlay_id}", [*command, "-f", target], needle=needle, files=files)
    add("overlay", f"{command[0]}:second-file-bad", [*command, "-f", "{tmp}/good.yaml", "-f", "{tmp}/bad.yaml"],
        files={"good.yaml": IOP_HEAD + b"spec:\n  profile: ambient\n", "bad.yaml": b"kind: [\n"},
        needle="bad.yaml")

for overlay_id, content, needle in HOSTILE_OVERLAYS:
    add("overlay-hostile", overlay_id, ["manifest", "generate", "-f", "{tmp}/overlay.yaml"], needle=needle,
        files={"overlay.yaml": content}, hostile=True)
    add("overlay-hostile", f"install:{overlay_id}", ["install", "-y", "-f", "{tmp}/overlay.yaml"], needle=needle,
        files={"overlay.yaml": content}, hostile=True)

# ------------------------------------------------------------------------------------ config dumps

DUMP_COMMANDS: list[list[str]] = [
    ["proxy-config", "secret"],
    ["pc", "secret", "-o", "json"],
    ["ztunnel-config", "workload"],
    ["ztunnel-config", "service"],
    ["ztunnel-config", "policy"],
    ["ztunnel-config", "certificate"],
    ["zc", "connections"],
    ["zc", "all"],
]


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


BAD_DUMPS: list[tuple[str, FileContent | None, str]] = [
    ("missing-file", None, "does not exist"),
    ("directory", None, "directory"),
    ("empty", b"", "empty"),
    ("whitespace", b"  \n\t\n", "empty"),
    ("not-json", b"certificates: []\n", "not valid json"),
    ("truncated", b'{"certificates": [{"identity": "spiffe://x', "truncated"),
    ("json-null", b"null", "not a config dump"),
    ("json-array", b"[]", "not a config dump"),
    ("json-string", b'"config_dump"', "not a config dump"),
    ("json-number", b"15000", "not a config dump"),
    ("unknown-object", _json({"hello": "world"}), "not a ztunnel or envoy"),
    ("empty-object", b"{}", "not a ztunnel or envoy"),
    ("certificates-string", _json({"certificates": "none"}), "expected a list"),
    ("certificates-number", _json({"certificates": 3}), "expected a list"),
    ("workloads-string", _json({"workloads": "x", "certificates": []}), "expected a list"),
    ("services-number", _json({"services": 1, "certificates": []}), "expected a list"),
    ("policies-bool", _json({"policies": True, "certificates": []}), "expected a list"),
    ("non-utf8", b'{"certificates": ["\xff\xfe"]}', "not text"),
    ("utf16", '{"certificates": []}'.encode("utf-16"), "not text"),
    ("binary", bytes(range(256)), "not text"),
    ("deep-array", b"[" * 100_000, "nested too deeply"),
    ("deep-object", b'{"a":' * 100_000, "nested too deeply"),
    ("deep-inside-certificates", b'{"certificates":' + b"[" * 100_000, "nested too deeply"),
    ("nan-literal", b'{"certificates": NaN', "json"),
]
# Shapes only some readers reject (the certificate readers; the zc tables ignore certificates).
CERT_DUMPS: list[tuple[str, bytes, str]] = [
    ("certificate-item-string", _json({"certificates": ["x"]}), "not an object"),
    ("certificate-item-list", _json({"certificates": [[1, 2]]}), "not an object"),
]
ENVOY_ONLY_COMMANDS = [["ztunnel-config", "workload"], ["zc", "all"], ["ztunnel-config", "certificate"]]

for command in DUMP_COMMANDS:
    for dump_id, content, needle in BAD_DUMPS:
        files = {}
        target = "{tmp}/dump.json"
        if dump_id == "directory":
            target = "{tmp}"
        elif content is not None:
            files["dump.json"] = content
        add("dump", f"{' '.join(command[:2])}:{dump_id}", [*command, "--file", target], needle=needle, files=files)
    add("dump", f"{' '.join(command[:2])}:stdin-garbage", [*command, "--file", "-"], stdin="<html>502</html>",
        needle="not valid json")
    add("dump", f"{' '.join(command[:2])}:with-node", [*command, "--file", "{tmp}/dump.json", "--node", "n1"],
        files={"dump.json": b"{}"}, expect=USAGE, needle="--node")

for command in (["proxy-config", "secret"], ["ztunnel-config", "certificate"]):
    for dump_id, content, needle in CERT_DUMPS:
        add("dump", f"{' '.join(command)}:{dump_id}", [*command, "--file", "{tmp}/dump.json"], needle=needle,
            files={"dump.json": content})

_ENVOY = _json({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"}]})
for command in ENVOY_ONLY_COMMANDS:
    add("dump", f"{' '.join(command)}:envoy-dump-for-ztunnel", [*command, "--file", "{tmp}/dump.json"],
        files={"dump.json": _ENVOY}, needle="envoy")

for bad_identity in ("nonsense", "ns/", "/sa", "spiffe://", "a/b/c"):
    add("dump", f"pc-secret:identity:{bad_identity}", ["pc", "secret", "--file", "{tmp}/dump.json",
        "--identity", bad_identity], files={"dump.json": _json({"certificates": []})}, expect={USAGE, INVALID_INPUT},
        needle="identity")


def _huge_dump(megabytes: int) -> Callable[[str], None]:
    def write(path: str) -> None:
        with open(path, "wb") as handle:
            handle.write(b'{"junk": [')
            item = b'"' + b"x" * 1000 + b'",'
            for _ in range(megabytes * 1024):
                handle.write(item)
            handle.write(b'"end"]}')
    return write


add("dump-hostile", "pc-secret:50mb-not-a-dump", ["pc", "secret", "--file", "{tmp}/dump.json"],
    files={"dump.json": _huge_dump(50)}, needle="not a ztunnel or envoy", hostile=True)
# No size limit any more (issue 17): a 70 MB JSON that is not a dump is refused for what it is, item by item.
add("dump-hostile", "zc-all:70mb-not-a-dump", ["zc", "all", "--file", "{tmp}/dump.json"],
    files={"dump.json": _huge_dump(70)}, needle="not a ztunnel or envoy", hostile=True)
add("dump-hostile", "pc-secret:deep-1m", ["pc", "secret", "--file", "{tmp}/dump.json"],
    files={"dump.json": b"[" * 1_000_000}, needle="nested too deeply", hostile=True)

# ------------------------------------------------------------------------------------ names

BAD_K8S_NAMES: list[tuple[str, str]] = [
    ("underscore", "Bad_Name"),
    ("upper", "UPPER"),
    ("300-chars", "a" * 300),
    ("64-chars", "a" * 64),
    ("leading-dash", "-abc"),
    ("trailing-dash", "abc-"),
    ("dot-dot", ".."),
    ("slash", "a/b"),
    ("path-traversal", "../../kube-system"),
    ("query", "x?labelSelector=a"),
    ("percent", "%2e%2e"),
    ("space", "a b"),
    ("unicode", "wäypoint"),
    ("control-char", "a\x07b"),
    ("non-utf8", "\udcff"),
    ("empty", ""),
]

for name_id, name in BAD_K8S_NAMES:
    # As an argument, `-abc` is read as an option: a usage error (2) is the right answer there.
    positional = {USAGE, INVALID_INPUT} if name.startswith("-") else INVALID_INPUT
    positional_needle = "" if name.startswith("-") else "namespace"
    add("names", f"dataplane-enroll:{name_id}", ["dataplane", "enroll", name], expect=positional,
        needle=positional_needle)
    add("names", f"dataplane-unenroll:{name_id}", ["dataplane", "unenroll", name], expect=positional,
        needle=positional_needle)
    if name_id != "64-chars":  # a Gateway name may be a 253-character DNS subdomain
        add("names", f"waypoint-delete:{name_id}", ["waypoint", "delete", name], expect=positional,
            needle="" if name.startswith("-") else "name")
    if name:  # an empty --name / -n means "the default", which is valid
        add("names", f"waypoint-generate--name:{name_id}", ["waypoint", "generate", "--name", name], needle="name")
        add("names", f"waypoint-apply--name:{name_id}", ["waypoint", "apply", "--name", name], needle="name")
        add("names", f"-n:waypoint-list:{name_id}", ["waypoint", "list", "-n", name], needle="namespace")
        add("names", f"-n:waypoint-apply:{name_id}", ["waypoint", "apply", "-n", name], needle="namespace")
        add("names", f"-n:dataplane-status:{name_id}", ["dataplane", "status", "-n", name], needle="namespace")

for name_id, name in (("underscore", "Bad_SA"), ("300-chars", "s" * 300), ("slash", "a/b"), ("upper", "SA")):
    add("names", f"waypoint-apply--service-account:{name_id}", ["waypoint", "apply", "--service-account", name],
        needle="service account")
for name_id, name in (("underscore", "Bad_Class"), ("empty", "x" * 300), ("upper", "ISTIO")):
    add("names", f"waypoint-apply--gateway-class:{name_id}", ["waypoint", "apply", "--gateway-class", name],
        needle="gateway class")
for name_id, value in (("bogus", "everything"), ("upper", "ALL"), ("empty", "")):
    add("names", f"waypoint-generate--for:{name_id}", ["waypoint", "generate", "--for", value], needle="--for")
for name_id, value in (("slash", "a/b"), ("300", "r" * 300), ("space", "a b")):
    add("names", f"waypoint-generate-r:{name_id}", ["waypoint", "generate", "-r", value], needle="revision")
    add("names", f"manifest-generate-r:{name_id}", ["manifest", "generate", "-r", value], needle="revision")
    add("names", f"install-r:{name_id}", ["install", "-y", "-r", value], needle="revision")
add("names", "waypoint-generate--name-none", ["waypoint", "generate", "--name", "none"], needle="reserved")
add("names", "istio-namespace-traversal", ["-i", "../x", "manifest", "generate"], needle="namespace")

# ------------------------------------------------------------------------------------ flags

FLAG_CASES: list[tuple[str, list[str], int, str]] = [
    ("uninstall-purge-and-revision", ["uninstall", "--purge", "-r", "canary"], USAGE, "--purge"),
    ("waypoint-delete-nothing", ["waypoint", "delete"], USAGE, "name the waypoints"),
    ("waypoint-delete-names-and-all", ["waypoint", "delete", "a", "--all"], USAGE, "--all"),
    ("waypoint-delete-names-and-revision", ["waypoint", "delete", "a", "-r", "x"], USAGE, "--revision"),
    ("waypoint-status-name-and-A", ["waypoint", "status", "w", "-A"], USAGE, "all-namespaces"),
    ("dataplane-enroll-no-args", ["dataplane", "enroll"], USAGE, "missing argument"),
    ("dataplane-unenroll-no-args", ["dataplane", "unenroll"], USAGE, "missing argument"),
    ("unknown-command", ["instal"], USAGE, "no such command"),
    ("unknown-subcommand", ["waypoint", "aply"], USAGE, "no such command"),
    ("unknown-flag", ["install", "--forse"], USAGE, "no such option"),
    ("unknown-global-flag", ["--kubeconfg", "x", "version"], USAGE, "no such option"),
    ("install-readiness-timeout-text", ["install", "-y", "--readiness-timeout", "soon"], INVALID_INPUT, "duration"),
    ("install-readiness-timeout-negative", ["install", "-y", "--readiness-timeout", "-1m"], INVALID_INPUT, "duration"),
    ("install-readiness-timeout-empty", ["install", "-y", "--readiness-timeout", ""], INVALID_INPUT, "duration"),
    ("install-lock-timeout-bad", ["install", "-y", "--lock-timeout", "1x"], INVALID_INPUT, "duration"),
    ("waypoint-timeout-negative", ["waypoint", "apply", "--waypoint-timeout", "-1s"], INVALID_INPUT, "must not be negative"),
    ("waypoint-timeout-text", ["waypoint", "apply", "--waypoint-timeout", "later"], INVALID_INPUT, "duration"),
    ("waypoint-status-timeout", ["waypoint", "status", "--wait", "--waypoint-timeout", "1y"], INVALID_INPUT,
     "duration"),
    ("request-timeout-zero", ["--request-timeout", "0", "version"], USAGE, "request-timeout"),
    ("request-timeout-text", ["--request-timeout", "soon", "version"], USAGE, "request-timeout"),
    ("request-timeout-nan", ["--request-timeout", "nan", "version"], USAGE, "request-timeout"),
    ("request-timeout-inf", ["--request-timeout", "inf", "version"], USAGE, "request-timeout"),
    ("request-timeout-last", ["version", "--request-timeout"], USAGE, "requires an argument"),
    ("version-bad-output", ["version", "-o", "xml"], USAGE, "xml"),
    ("precheck-bad-output", ["precheck", "-o", "table"], USAGE, "table"),
    ("verify-bad-output", ["verify-install", "-o", "wide"], USAGE, "wide"),
    ("waypoint-list-bad-output", ["waypoint", "list", "-o", "name"], USAGE, "name"),
    ("dataplane-status-bad-output", ["dataplane", "status", "-o", "csv"], USAGE, "csv"),
    ("pc-secret-bad-output", ["pc", "secret", "-o", "pem"], USAGE, "pem"),
    ("zc-bad-output", ["zc", "workload", "-o", "wide"], USAGE, "wide"),
    ("profile-dump-bad-output", ["profile", "dump", "-o", "toml"], USAGE, "toml"),
    ("profile-dump-unknown", ["profile", "dump", "nosuch"], INVALID_INPUT, "unknown profile"),
    ("profile-dump-traversal", ["profile", "dump", "../../etc/passwd"], INVALID_INPUT, "unknown profile"),
    ("profile-dump-bad-config-path", ["profile", "dump", "-p", "spec.nosuch"], INVALID_INPUT, "config-path"),
    ("profile-dump-malformed-config-path", ["profile", "dump", "-p", "spec..x"], INVALID_INPUT, "malformed"),
    ("profile-diff-unknown", ["profile", "diff", "default", "nosuch"], INVALID_INPUT, "unknown profile"),
    ("profile-diff-one-arg", ["profile", "diff", "default"], USAGE, "missing argument"),
    ("manifest-output-is-file", ["manifest", "generate", "-o", "{tmp}/file"], INVALID_INPUT, "not a directory"),
    ("missing-kubeconfig-flag-value", ["version", "-c"], USAGE, "requires an argument"),
    ("pc-secret-extra-arg", ["pc", "secret", "a", "b"], USAGE, "unexpected extra argument"),
    ("install-set-and-bad-file", ["install", "-y", "--set", "profile=ambient", "-f", "{tmp}/nope.yaml"],
     INVALID_INPUT, "no such file"),
    ("non-utf8-flag", ["install", "--\udcff"], USAGE, "no such option"),
    ("non-utf8-command", ["\udcff"], USAGE, "no such command"),
]

for flag_id, argv, code, needle in FLAG_CASES:
    files = {"file": b"x"} if "{tmp}/file" in argv else {}
    add("flags", flag_id, argv, expect=code, needle=needle, files=files)

# Missing kubeconfig / bad kubeconfig are covered by tests/unit/test_errors.py; the contents of
# kubeconfig files are still input:
BAD_KUBECONFIGS: list[tuple[str, bytes, str]] = [
    ("not-yaml", b"clusters: [\n", "kubeconfig"),
    ("list", b"- a\n", "kubeconfig"),
    ("non-utf8", b"apiVersion: v1\nclusters: \xff\n", "kubeconfig"),
    ("no-contexts", b"apiVersion: v1\nkind: Config\nclusters: []\n", "context"),
    ("context-without-cluster", b"apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n"
     b"  context: {cluster: nope, user: nope}\n", "kubeconfig"),
]
for kc_id, content, needle in BAD_KUBECONFIGS:
    add("kubeconfig", kc_id, ["-c", "{tmp}/kubeconfig", "waypoint", "list"], expect=6, needle=needle,
        files={"kubeconfig": content})


def summary() -> dict[str, int]:
    """Case counts per category, for tests/RELIABILITY.md."""
    counts: dict[str, int] = {}
    for case in CASES:
        counts[case.category] = counts.get(case.category, 0) + 1
    return counts


if __name__ == "__main__":  # python -m tests.reliability.corpus: print the counts
    for category, number in sorted(summary().items()):
        print(f"{category:16} {number}")
    print(f"{'total':16} {len(CASES)}")
