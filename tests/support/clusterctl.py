"""Local Kubernetes control plane for ambientctl's tests (no container runtime): the logic of tests/cluster.

    tests/cluster up [--instance NAME] [--no-gateway-api]   start (idempotent); last stdout line: KUBECONFIG=<path>
    tests/cluster down [--instance NAME | --all]            stop every process we started, remove the state dir
    tests/cluster status [--instance NAME]                  show components, pids, liveness, API URL
    tests/cluster connections [--instance NAME]             summary of the egress connection log

Instances: `make test` uses the instance ``test`` (state dir ~/.cache/ambientctl/cluster/state-test),
`make demo` the instance ``demo`` (state-demo); each has its own ports, stand-in ports and
processes, so the two never share objects.  ``$AMBIENTCTL_CLUSTER_STATE`` names a state dir
directly (it wins over the default instance, not over an explicit ``--instance``).

Components (all on 127.0.0.1, free ports picked at `up`): etcd, the egress proxy
(tests/support/egressproxy.py: kube-apiserver's webhook, aggregated-API and kubelet
connections go through it and stay on loopback), kube-apiserver, kube-controller-manager,
kube-scheduler (Kubernetes v1.36.3, built from the Go module proxy by tests/clusterbuild/build.sh
into ~/.cache/ambientctl/cluster/v1.36.3/bin) and kwok v0.8.0, which simulates three Ready nodes
and their pods and serves the kubelet port-forward API.  See docs/testing.md.

Only the Python standard library is used, plus `cryptography` for certificates.
"""

from __future__ import annotations

import argparse
import fcntl
import base64
import datetime
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

K8S_VERSION = "v1.36.3"
KWOK_VERSION = "v0.8.0"
GATEWAY_API_VERSION = "v1.6.0"
NODES = ["ambient-control-plane", "ambient-worker", "ambient-worker2"]
CLUSTER_NAME = "ambient"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.1/16"
READONLY_USER = "ambientctl-readonly"
# Pod ports kwok forwards to the stand-ins; the local ports are allocated per instance (see
# allocate_standin_ports) unless AMBIENTCTL_STANDIN_PORTS="15000:31500,15020:31520" says otherwise.
STANDIN_POD_PORTS = (15000, 15020)
STANDIN_BASE, STANDIN_STEP = 31500, 100     # instance k gets 31500+100k (pod 15000) and 31520+100k (pod 15020)
BINARIES = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]
EGRESS_PROXY = "egress-proxy"
# start order; stop order is the reverse (the proxy outlives the API server that dials through it)
COMPONENTS = ["etcd", EGRESS_PROXY, "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]
EGRESS_TYPES = ("cluster", "controlplane")  # kube-apiserver egress selections sent through the proxy
FIELD_MANAGER = "ambientctl-test-cluster"
DEFAULT_INSTANCE = "test"
STATE_ENV = "AMBIENTCTL_CLUSTER_STATE"

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ambientctl", "cluster")
BIN_DIR = os.path.join(CACHE, K8S_VERSION, "bin")
STANDIN_ALLOCATIONS = os.path.join(CACHE, "standin-ports.json")
# Files whose change makes `up` recreate a running cluster (they shape what runs).
DIGEST_FILES = [os.path.abspath(__file__)] + [os.path.join(REPO, "tests", "support", f)
                                              for f in ("egressproxy.py", "localservices.py")]


def instance_state_dir(instance: str) -> str:
    """The state dir of a named instance: <cache>/state-<instance>."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", instance):
        raise ValueError(f"instance name {instance!r}: use lower-case letters, digits and '-'")
    return os.path.join(CACHE, f"state-{instance}")


def default_state_dir(instance: str | None = None) -> str:
    """The state dir a command uses: an explicit instance, else $AMBIENTCTL_CLUSTER_STATE, else instance `test`."""
    if instance:
        return instance_state_dir(instance)
    return os.path.abspath(os.environ.get(STATE_ENV) or instance_state_dir(DEFAULT_INSTANCE))


STATE = default_state_dir()
STATE_FILE = os.path.join(STATE, "cluster.json")


def use_state(path: str) -> None:
    """Point every command of this module at the instance in `path`."""
    global STATE, STATE_FILE
    STATE = os.path.abspath(path)
    STATE_FILE = os.path.join(STATE, "cluster.json")


def log(msg):
    print(f"[cluster {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def die(msg, logs=()):
    log("ERROR: " + msg)
    for name in logs:
        path = os.path.join(STATE, "logs", name + ".log")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                tail = f.readlines()[-25:]
            print(f"---- tail of {path} ----", file=sys.stderr)
            sys.stderr.write("".join(tail))
    sys.exit(1)


def write_private(path, data):
    if isinstance(data, str):
        data = data.encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def parse_standin_ports(spec: str) -> dict[str, int]:
    """"15000:31500,15020:31520" -> {"15000": 31500, "15020": 31520}."""
    out = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        pod_port, local_port = item.split(":")
        out[str(int(pod_port))] = int(local_port)
    return out


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def allocate_standin_ports(state_dir: str) -> dict[str, int]:
    """This instance's stand-in ports: kept for the life of its state dir, never shared with another.

    Why not free ports: nothing listens on them between test sessions, so "free now" says nothing;
    and ports below the ephemeral range are not picked by the kernel for some other connection.
    Allocations live in <cache>/standin-ports.json (entries of deleted state dirs are dropped)."""
    if os.environ.get("AMBIENTCTL_STANDIN_PORTS"):
        return parse_standin_ports(os.environ["AMBIENTCTL_STANDIN_PORTS"])
    os.makedirs(CACHE, exist_ok=True)
    with open(STANDIN_ALLOCATIONS + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(STANDIN_ALLOCATIONS) as f:
                table = json.load(f)
        except (OSError, ValueError):
            table = {}
        # forget instances whose state dir is gone (not one still being created: `up` allocates first)
        table = {d: ports for d, ports in table.items()
                 if d == state_dir or os.path.isdir(d) or time.time() - ports.get("allocated", 0) < 600}
        if state_dir not in table:
            taken = {p for ports in table.values() for k, p in ports.items() if k != "allocated"}
            limit = _ephemeral_low()
            for base in range(STANDIN_BASE, limit - STANDIN_STEP, STANDIN_STEP):
                ports = {str(pp): base + i * 20 for i, pp in enumerate(STANDIN_POD_PORTS)}
                if not taken & set(ports.values()) and all(_port_free(p) for p in ports.values()):
                    table[state_dir] = dict(ports, allocated=int(time.time()))
                    break
            else:
                die(f"no free stand-in port pair between {STANDIN_BASE} and {limit}; "
                    "set AMBIENTCTL_STANDIN_PORTS or remove old instances (tests/cluster down --all)")
        write_private(STANDIN_ALLOCATIONS, json.dumps(table, indent=2, sort_keys=True) + "\n")
        return {k: v for k, v in table[state_dir].items() if k != "allocated"}


def release_standin_ports(state_dir: str) -> None:
    with open(STANDIN_ALLOCATIONS + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(STANDIN_ALLOCATIONS) as f:
                table = json.load(f)
        except (OSError, ValueError):
            return
        if table.pop(state_dir, None) is not None:
            write_private(STANDIN_ALLOCATIONS, json.dumps(table, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------- binaries

def ensure_binaries():
    missing = [c for c in BINARIES if not os.access(os.path.join(BIN_DIR, c), os.X_OK)]
    if not missing:
        return
    if not shutil.which("go"):
        die(f"binaries {missing} missing in {BIN_DIR} and no `go` toolchain to build them")
    log(f"building {', '.join(missing)} into {BIN_DIR} (first run only; this takes a while)")
    script = os.path.join(REPO, "tests", "clusterbuild", "build.sh")
    rc = subprocess.call([script, BIN_DIR] + missing, stdout=sys.stderr)
    if rc != 0:
        die(f"building binaries failed (exit {rc})")


def go_env(var):
    return subprocess.check_output(["go", "env", var], text=True).strip()


def module_dir(module, version):
    """Directory of module@version in the Go module cache, downloading it if missing."""
    moddir = os.path.join(go_env("GOMODCACHE"), module + "@" + version)
    if not os.path.isdir(moddir):
        log(f"downloading {module}@{version} from the Go module proxy")
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
            out = subprocess.check_output(["go", "mod", "download", "-json", f"{module}@{version}"],
                                          cwd=tmp, env=env, text=True)
        moddir = json.loads(out)["Dir"]
    return moddir


# --------------------------------------------------------------------------- PKI

def make_pki(d):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=365)

    def key_pem(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def name(cn, org=None):
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)  # noqa: E731

    def make_ca(fname, cn):
        key = ec.generate_private_key(ec.SECP256R1())
        subj = name(cn)
        cert = (x509.CertificateBuilder().subject_name(subj).issuer_name(subj)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(later)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                             content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        with open(os.path.join(d, fname + ".crt"), "wb") as f:
            f.write(pem(cert))
        write_private(os.path.join(d, fname + ".key"), key_pem(key))
        return key, subj

    cas = {"ca": make_ca("ca", "ambientctl-test-ca"),
           "front-proxy-ca": make_ca("front-proxy-ca", "ambientctl-test-front-proxy-ca")}

    def issue(fname, cn, org=None, server_sans=None, client=True, ca="ca"):
        ca_key, ca_name = cas[ca]
        key = ec.generate_private_key(ec.SECP256R1())
        usages = []
        b = (x509.CertificateBuilder().subject_name(name(cn, org)).issuer_name(ca_name)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now).not_valid_after(later)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False,
                                          content_commitment=False, data_encipherment=False,
                                          key_agreement=False, key_cert_sign=False, crl_sign=False,
                                          encipher_only=False, decipher_only=False), critical=True)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                            critical=False))
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        if server_sans:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
            sans = []
            for s in server_sans:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(s)))
                except ValueError:
                    sans.append(x509.DNSName(s))
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        b = b.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        cert = b.sign(ca_key, hashes.SHA256())
        with open(os.path.join(d, fname + ".crt"), "wb") as f:
            f.write(pem(cert))
        write_private(os.path.join(d, fname + ".key"), key_pem(key))

    svc_ip = str(next(ipaddress.ip_network(SERVICE_CIDR).hosts()))
    issue("apiserver", "kube-apiserver", client=False,
          server_sans=["127.0.0.1", "localhost", svc_ip, "kubernetes", "kubernetes.default",
                       "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"])
    issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters")
    issue("admin", "kubernetes-admin", "system:masters")
    issue("readonly", READONLY_USER)
    issue("controller-manager", "system:kube-controller-manager")
    issue("scheduler", "system:kube-scheduler")
    issue("kwok", "kwok-controller", "system:masters")
    issue("kwok-serving", "kwok", client=False, server_sans=["127.0.0.1", "localhost"] + NODES)
    issue("front-proxy-client", "front-proxy-client", ca="front-proxy-ca")

    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write_private(os.path.join(d, "sa.key"), key_pem(sa))
    with open(os.path.join(d, "sa.pub"), "wb") as f:
        f.write(sa.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo))


def b64file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def write_kubeconfig(path, server, pki, cert, user):
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_NAME, "cluster": {
            "server": server, "certificate-authority-data": b64file(os.path.join(pki, "ca.crt"))}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": b64file(os.path.join(pki, cert + ".crt")),
            "client-key-data": b64file(os.path.join(pki, cert + ".key"))}}],
        "contexts": [{"name": f"{user}@{CLUSTER_NAME}", "context": {"cluster": CLUSTER_NAME, "user": user}}],
        "current-context": f"{user}@{CLUSTER_NAME}",
        "preferences": {},
    }
    # JSON is valid YAML; every kubeconfig loader accepts it.
    write_private(path, json.dumps(cfg, indent=2) + "\n")


# --------------------------------------------------------------------------- API access

class API:
    def __init__(self, url, pki, cert="admin"):
        self.url = url
        self.ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(pki, cert + ".crt"), os.path.join(pki, cert + ".key"))

    def call(self, method, path, body=None, ctype="application/json", timeout=30, attempts=3):
        """One API call; a read timeout is retried (every call the script makes is idempotent:
        GETs and server-side applies), because a busy 2-core machine can stall the first
        CRD applies past any single timeout."""
        for attempt in range(1, attempts + 1):
            try:
                return self._call_once(method, path, body, ctype, timeout)
            except (TimeoutError, socket.timeout):
                if attempt == attempts:
                    raise
                log(f"{method} {path.split('?')[0]} timed out after {timeout}s; retrying ({attempt}/{attempts - 1})")

    def _call_once(self, method, path, body, ctype, timeout):
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=timeout) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def ok(self, method, path, body=None, ctype="application/json", allow=()):
        status, obj = self.call(method, path, body, ctype)
        if status >= 300 and status not in allow:
            raise RuntimeError(f"{method} {path} -> {status}: {obj}")
        return status, obj

    def apply(self, path, obj):
        """Server-side apply (JSON or YAML body) to a named object path."""
        body = obj if isinstance(obj, str) else json.dumps(obj)
        return self.ok("PATCH", f"{path}?fieldManager={FIELD_MANAGER}&force=true", body,
                       ctype="application/apply-patch+yaml")


def http_ok(url, timeout=2, ctx=None):
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as resp:
            return resp.status == 200
    except Exception:
        return False


def wait_for(what, fn, timeout, logs=(), interval=0.25, pids=None):
    """Poll fn() until true; fail early if one of `pids` ({name: pid}) died."""
    deadline = time.time() + timeout
    last_err = None
    while time.time() < deadline:
        for name, pid in (pids or {}).items():
            if not pid_alive(pid):
                die(f"{name} (pid {pid}) exited while waiting for {what}", logs)
        try:
            if fn():
                return
        except Exception as e:  # noqa: BLE001
            last_err = e
        time.sleep(interval)
    die(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_err})" if last_err else ""),
        logs)


# --------------------------------------------------------------------------- processes

def pid_alive(pid, binary=None):
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        if binary:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read().split(b"\0")[0].decode(errors="replace") == binary
    except OSError:
        return False
    return True


def start(name, args, binary=None, env=None):
    """Start one component (default: the built binary of that name) in its own session, log in <state>/logs."""
    binary = binary or os.path.join(BIN_DIR, name)
    os.makedirs(os.path.join(STATE, "logs"), exist_ok=True)
    logf = open(os.path.join(STATE, "logs", name + ".log"), "ab")
    logf.write(f"\n==== {time.ctime()} {binary} {' '.join(args)}\n".encode())
    logf.flush()
    p = subprocess.Popen([binary] + args, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         cwd=STATE, start_new_session=True, close_fds=True, env=env)
    logf.close()
    with open(os.path.join(STATE, name + ".pid"), "w") as f:
        f.write(str(p.pid))
    return p.pid


def read_state():
    try:
        with open(STATE_FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def stop_all(state):
    pids = {}
    for name in reversed(COMPONENTS):
        pidfile = os.path.join(STATE, name + ".pid")
        try:
            with open(pidfile) as f:
                pids[name] = int(f.read().strip())
        except (OSError, ValueError):
            continue
    binaries = (state or {}).get("binaries", {})
    # one at a time, dependents first (etcd last, so the apiserver can shut down cleanly)
    for name, pid in pids.items():
        if not pid_alive(pid, binaries.get(name, os.path.join(BIN_DIR, name))):
            continue
        log(f"stopping {name} (pid {pid})")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.time() + 10
        while pid_alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        if pid_alive(pid):
            log(f"{name} (pid {pid}) did not exit after SIGTERM; SIGKILL")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            while pid_alive(pid) and time.time() < deadline + 5:
                time.sleep(0.05)


# --------------------------------------------------------------------------- kwok config

def kwok_config(forwards, pod_log):
    """KwokConfiguration + Stage + ClusterPortForward objects (JSON documents, kwok reads YAML)."""
    node_ready = r"""
{{ $now := Now }}
conditions:
- type: Ready
  status: "True"
  reason: KubeletReady
  message: kwok simulates a ready kubelet
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ range $t := list "MemoryPressure" "DiskPressure" "PIDPressure" "NetworkUnavailable" }}
- type: {{ $t }}
  status: "False"
  reason: KubeletHasNo{{ $t }}
  message: simulated
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
addresses:
- type: InternalIP
  address: {{ NodeIP | Quote }}
- type: Hostname
  address: {{ .metadata.name | Quote }}
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ NodePort }}
capacity:
  cpu: "32"
  memory: 128Gi
  pods: "250"
  ephemeral-storage: 500Gi
allocatable:
  cpu: "32"
  memory: 128Gi
  pods: "250"
  ephemeral-storage: 500Gi
nodeInfo:
  architecture: amd64
  operatingSystem: linux
  osImage: kwok simulated node
  kernelVersion: kwok-%(kwok)s
  kubeletVersion: %(k8s)s
  kubeProxyVersion: %(k8s)s
  containerRuntimeVersion: kwok://%(kwok)s
  bootID: ""
  machineID: ""
  systemUUID: ""
phase: Running
""" % {"k8s": K8S_VERSION, "kwok": KWOK_VERSION}

    pod_running = r"""
{{ $now := Now }}
conditions:
- type: PodScheduled
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: ContainersReady
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ range .spec.readinessGates }}
- type: {{ .conditionType | Quote }}
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: {{ printf "kwok://%s" .image | Quote }}
  containerID: {{ printf "kwok://%s" .name | Quote }}
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
initContainerStatuses:
{{ range .spec.initContainers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: {{ printf "kwok://%s" .image | Quote }}
  ready: true
  restartCount: 0
{{ if eq .restartPolicy "Always" }}
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ else }}
  started: false
  state:
    terminated:
      exitCode: 0
      reason: Completed
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
{{ end }}
{{ with NodeIPsWith .spec.nodeName }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
podIP: {{ index . 0 | Quote }}
podIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
"""

    pod_succeeded = r"""
{{ $now := Now }}
conditions:
- type: Ready
  status: "False"
  reason: PodCompleted
  lastTransitionTime: {{ $now | Quote }}
- type: ContainersReady
  status: "False"
  reason: PodCompleted
  lastTransitionTime: {{ $now | Quote }}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  started: false
  restartCount: 0
  state:
    terminated:
      exitCode: 0
      reason: Completed
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
phase: Succeeded
"""

    def stage(name, kind, exprs, nxt, delay_ms=None):
        spec = {"resourceRef": {"apiGroup": "v1", "kind": kind},
                "selector": {"matchExpressions": exprs}, "next": nxt}
        if delay_ms:
            spec["delay"] = {"durationMilliseconds": delay_ms}
        return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage",
                "metadata": {"name": name}, "spec": spec}

    not_deleting = {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"}
    docs = [
        {"apiVersion": "config.kwok.x-k8s.io/v1alpha1", "kind": "KwokConfiguration",
         "options": {"nodeLeaseDurationSeconds": 40, "nodeLeaseParallelism": 4, "podPlayStageParallelism": 4,
                     "nodePlayStageParallelism": 4, "podsOnNodeSyncParallelism": 2,
                     # kwok applies its documented defaults only without a config document
                     "enableDebuggingHandlers": True, "enableProfilingHandler": False,
                     "enableContentionProfiling": False, "enablePodsOnNodeSyncListPager": True}},
        stage("ambient-node-ready", "Node",
              [{"key": '.status.conditions.[] | select( .type == "Ready" ) | .status',
                "operator": "NotIn", "values": ["True"]}],
              {"statusTemplate": node_ready}),
        stage("ambient-pod-running", "Pod",
              [not_deleting,
               {"key": ".status.phase", "operator": "In", "values": ["Pending"]},
               {"key": '.status.conditions.[] | select( .type == "Ready" ) | .status',
                "operator": "NotIn", "values": ["True"]}],
              {"statusTemplate": pod_running}),
        stage("ambient-job-pod-succeeded", "Pod",
              [not_deleting,
               {"key": ".status.phase", "operator": "In", "values": ["Running"]},
               {"key": ".metadata.ownerReferences.[].kind", "operator": "In", "values": ["Job"]}],
              {"statusTemplate": pod_succeeded}, delay_ms=1000),
        stage("ambient-pod-delete", "Pod",
              [{"key": ".metadata.deletionTimestamp", "operator": "Exists"}],
              {"delete": True, "finalizers": {"empty": True}}),
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs",
         "metadata": {"name": "ambient-logs"},
         "spec": {"logs": [{"logsFile": pod_log, "follow": False}]}},
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterPortForward",
         "metadata": {"name": "ambient-standins"},
         "spec": {"forwards": [{"ports": [int(p)], "target": {"address": "127.0.0.1", "port": local}}
                               for p, local in sorted(forwards.items())]}},
    ]
    return "\n---\n".join(json.dumps(d, indent=1) for d in docs) + "\n"


# --------------------------------------------------------------------------- cluster objects

def node_object(name, index):
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": "amd64",
        "type": "kwok",
    }
    if index == 0:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels,
                     "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"],
                 "providerID": f"kwok://{name}"},
    }


def readonly_rbac(api):
    api.apply("/apis/rbac.authorization.k8s.io/v1/clusterroles/ambientctl-readonly-extra", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "ambientctl-readonly-extra"},
        "rules": [
            {"apiGroups": [""], "resources": ["nodes", "namespaces"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"],
             "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
        ]})
    for binding, role in (("ambientctl-readonly-view", "view"),
                          ("ambientctl-readonly-extra", "ambientctl-readonly-extra")):
        api.apply(f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{binding}", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": binding},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": READONLY_USER}]})


GATEWAY_PATHS = {
    "CustomResourceDefinition": "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/",
    "ValidatingAdmissionPolicy": "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/",
    "ValidatingAdmissionPolicyBinding": "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/",
}


def yaml_documents(paths):
    """(kind, name, text) of each document; just enough YAML sniffing for server-side apply."""
    docs = []
    for path in paths:
        with open(path) as f:
            text = f.read()
        for doc in re.split(r"^---\s*$", text, flags=re.M):
            kind = re.search(r"^kind:\s*(\S+)", doc, re.M)
            name = re.search(r"^metadata:\s*\n(?:[ \t]+.*\n|\s*\n)*?[ \t]{2}name:\s*\"?([^\"\s]+)\"?", doc, re.M)
            if not kind:
                continue
            if kind.group(1) not in GATEWAY_PATHS or not name:
                raise RuntimeError(f"unexpected document in {path}: kind={kind.group(1)}")
            docs.append((kind.group(1), name.group(1), doc))
    return docs


def gateway_documents():
    d = os.path.join(module_dir("sigs.k8s.io/gateway-api", GATEWAY_API_VERSION), "config", "crd", "standard")
    return yaml_documents(os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".yaml"))


def wait_crds_established(api, names, what):
    def established():
        for n in names:
            _, obj = api.ok("GET", GATEWAY_PATHS["CustomResourceDefinition"] + n)
            conds = {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions", [])}
            if conds.get("Established") != "True":
                return False
        return True
    wait_for(f"{what} to be Established", established, 60, ["kube-apiserver"])


def install_kwok_crds(api):
    """kwok's namespaced PortForward and Logs CRDs, so tests can override single pods."""
    d = os.path.join(module_dir("sigs.k8s.io/kwok", KWOK_VERSION), "kustomize", "crd", "bases")
    names = []
    for kind, name, doc in yaml_documents([os.path.join(d, "kwok.x-k8s.io_portforwards.yaml"),
                                           os.path.join(d, "kwok.x-k8s.io_logs.yaml")]):
        api.apply(GATEWAY_PATHS[kind] + name, doc)
        names.append(name)
    wait_crds_established(api, names, "kwok CRDs")


def sync_gateway_api(api, want):
    if want:
        docs = gateway_documents()
        crds = []
        for kind, name, doc in docs:
            api.apply(GATEWAY_PATHS[kind] + name, doc)
            if kind == "CustomResourceDefinition":
                crds.append(name)
        wait_crds_established(api, crds, "Gateway API CRDs")
        log(f"Gateway API {GATEWAY_API_VERSION} standard CRDs installed ({len(crds)} CRDs)")
    else:
        _, lst = api.ok("GET", GATEWAY_PATHS["CustomResourceDefinition"].rstrip("/"))
        names = [i["metadata"]["name"] for i in lst.get("items", [])
                 if i["spec"]["group"] == "gateway.networking.k8s.io"]
        for n in names:
            api.ok("DELETE", GATEWAY_PATHS["CustomResourceDefinition"] + n, allow=(404,))
        for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
            api.ok("DELETE", GATEWAY_PATHS[kind] + "safe-upgrades.gateway.networking.k8s.io", allow=(404,))

        def gone():
            _, lst = api.ok("GET", GATEWAY_PATHS["CustomResourceDefinition"].rstrip("/"))
            return not any(i["spec"]["group"] == "gateway.networking.k8s.io" for i in lst.get("items", []))
        wait_for("Gateway API CRDs to be removed", gone, 60, ["kube-apiserver"])
        if names:
            log(f"removed {len(names)} Gateway API CRDs (--no-gateway-api)")


def nodes_ready(api):
    _, lst = api.ok("GET", "/api/v1/nodes")
    ready = set()
    for n in lst.get("items", []):
        conds = {c["type"]: c["status"] for c in n.get("status", {}).get("conditions", [])}
        if conds.get("Ready") == "True" and not any(
                t.get("key", "").startswith("node.kubernetes.io/") for t in n["spec"].get("taints", []) or []):
            ready.add(n["metadata"]["name"])
    return set(NODES) <= ready


# --------------------------------------------------------------------------- commands

def script_digest():
    import hashlib
    h = hashlib.sha256()
    for path in DIGEST_FILES:
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- egress

def egress_sockets(state_dir):
    """egress type -> Unix socket of the proxy (kube-apiserver's HTTPConnect over TCP needs mTLS; UDS does not)."""
    sockets = {e: os.path.join(state_dir, f"egress-{e}.sock") for e in EGRESS_TYPES}
    for path in sockets.values():
        if len(path.encode()) > 100:  # sun_path is 108 bytes
            die(f"state dir {state_dir} is too long for a Unix socket path ({path}); "
                "use a shorter $AMBIENTCTL_CLUSTER_STATE")
    return sockets


def egress_selector_config(sockets):
    """kube-apiserver's EgressSelectorConfiguration: `cluster` and `controlplane` egress via the proxy.

    cluster: webhooks and aggregated APIs named by a Service, kubelet (kwok) connections;
    controlplane: webhooks named by a URL, audit/tracing backends.  etcd stays direct (127.0.0.1)."""
    return {
        "apiVersion": "apiserver.k8s.io/v1beta1", "kind": "EgressSelectorConfiguration",
        "egressSelections": [{"name": e, "connection": {"proxyProtocol": "HTTPConnect",
                                                        "transport": {"uds": {"udsName": path}}}}
                             for e, path in sockets.items()],
    }


def start_egress_proxy(state, api_url, sockets):
    argv = ["-m", "tests.support.egressproxy", f"--state={STATE}", f"--api-url={api_url}"]
    argv += [f"--socket={e}={path}" for e, path in sockets.items()]
    env = dict(os.environ, PYTHONPATH=REPO, PYTHONDONTWRITEBYTECODE="1")
    state["binaries"][EGRESS_PROXY] = sys.executable
    state["pids"][EGRESS_PROXY] = start(EGRESS_PROXY, argv, binary=sys.executable, env=env)
    wait_for("egress proxy sockets", lambda: all(os.path.exists(p) for p in sockets.values()), 20,
             [EGRESS_PROXY], pids=state["pids"])


def connection_log(state_dir):
    """The egress proxy's records (one dict per CONNECT attempt), oldest first."""
    from tests.support.egressproxy import LOG_FILE

    records = []
    try:
        with open(os.path.join(state_dir, LOG_FILE)) as f:
            for line in f:
                if line.strip():
                    records.append(json.loads(line))
    except OSError:
        pass
    return records


def healthy(state):
    if not state:
        return False, "no state"
    if state.get("script_digest") != script_digest():
        return False, "tests/cluster changed since this cluster was started"
    for name in COMPONENTS:
        pid = state["pids"].get(name)
        if not pid or not pid_alive(pid, state["binaries"][name]):
            return False, f"{name} not running"
    try:
        api = API(state["api_url"], os.path.join(STATE, "pki"))
        status, _ = api.call("GET", "/readyz", timeout=5, attempts=1)
        if status != 200:
            return False, f"apiserver /readyz -> {status}"
        if not nodes_ready(api):
            return False, "nodes not Ready"
    except Exception as e:  # noqa: BLE001
        return False, f"apiserver unreachable: {e}"
    return True, "ok"


def cmd_up(args):
    t0 = time.time()
    want_gw = not args.no_gateway_api
    forwards = allocate_standin_ports(STATE)
    state = read_state()
    ok, why = healthy(state)
    if ok and state.get("standin_ports") == forwards:
        api = API(state["api_url"], os.path.join(STATE, "pki"))
        if state.get("gateway_api") != want_gw:
            sync_gateway_api(api, want_gw)
            state["gateway_api"] = want_gw
            write_private(STATE_FILE, json.dumps(state, indent=2))
        log(f"cluster already up ({state['api_url']})")
        print(f"KUBECONFIG={state['kubeconfig']}")
        return 0
    if state or os.path.exists(STATE):
        log(f"existing state not healthy ({why if state else 'stale state dir'}); recreating")
        stop_all(state)
        shutil.rmtree(STATE, ignore_errors=True)

    ensure_binaries()
    os.makedirs(STATE, mode=0o700, exist_ok=True)
    pki = os.path.join(STATE, "pki")
    os.makedirs(pki, mode=0o700, exist_ok=True)
    make_pki(pki)
    etcd_client, etcd_peer, api_port, kcm_port, sched_port, kwok_port = free_ports(6)
    api_url = f"https://127.0.0.1:{api_port}"
    kubeconfig = os.path.join(STATE, "kubeconfig")
    readonly_kubeconfig = os.path.join(STATE, "kubeconfig-readonly")
    write_kubeconfig(kubeconfig, api_url, pki, "admin", "kubernetes-admin")
    write_kubeconfig(readonly_kubeconfig, api_url, pki, "readonly", READONLY_USER)
    for comp, cert, user in (("controller-manager", "controller-manager", "system:kube-controller-manager"),
                             ("scheduler", "scheduler", "system:kube-scheduler"),
                             ("kwok", "kwok", "kwok-controller")):
        write_kubeconfig(os.path.join(STATE, comp + ".kubeconfig"), api_url, pki, cert, user)
    with open(os.path.join(STATE, "kwok.yaml"), "w") as f:
        f.write(kwok_config(forwards, os.path.join(STATE, "pod.log")))
    sockets = egress_sockets(STATE)
    egress_config = os.path.join(STATE, "egress-selector.yaml")
    with open(egress_config, "w") as f:
        f.write(json.dumps(egress_selector_config(sockets), indent=2) + "\n")  # JSON is YAML
    with open(os.path.join(STATE, "pod.log"), "w") as f:
        # CRI log format, which kwok parses: <RFC3339Nano> <stream> <F|P> <message>
        f.write(time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime()) +
                " stdout F simulated container log (kwok ClusterLogs; per pod: a kwok.x-k8s.io/v1alpha1 Logs)\n")

    state = {
        "version": K8S_VERSION, "api_url": api_url, "kubeconfig": kubeconfig,
        "readonly_kubeconfig": readonly_kubeconfig, "standin_ports": forwards, "gateway_api": want_gw,
        "ports": {"etcd-client": etcd_client, "etcd-peer": etcd_peer, "kube-apiserver": api_port,
                  "kube-controller-manager": kcm_port, "kube-scheduler": sched_port, "kwok": kwok_port},
        "binaries": {c: os.path.join(BIN_DIR, c) for c in BINARIES}, "pids": {},
        "egress_sockets": sockets, "connection_log": os.path.join(STATE, "egress.log"),
        "script_digest": script_digest(), "state_dir": STATE, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }

    def save():
        write_private(STATE_FILE, json.dumps(state, indent=2))

    etcd_url = f"http://127.0.0.1:{etcd_client}"
    log(f"starting etcd on {etcd_url}")
    state["pids"]["etcd"] = start("etcd", [
        "--name=ambient", f"--data-dir={os.path.join(STATE, 'etcd')}",
        f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
        f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
        f"--initial-cluster=ambient=http://127.0.0.1:{etcd_peer}",
        "--initial-cluster-state=new", "--unsafe-no-fsync=true", "--log-level=warn",
        "--quota-backend-bytes=4294967296", "--snapshot-count=10000"])
    save()
    wait_for("etcd /health", lambda: http_ok(etcd_url + "/health"), 30, ["etcd"], pids=state["pids"])

    log("starting the egress proxy (kube-apiserver's cluster/controlplane egress; log: egress.log)")
    start_egress_proxy(state, api_url, sockets)
    save()

    p = lambda n: os.path.join(pki, n)  # noqa: E731
    log(f"starting kube-apiserver on {api_url}")
    state["pids"]["kube-apiserver"] = start("kube-apiserver", [
        f"--etcd-servers={etcd_url}",
        "--bind-address=127.0.0.1", f"--secure-port={api_port}", "--advertise-address=127.0.0.1",
        "--endpoint-reconciler-type=none",  # loopback IPs are not valid endpoint addresses
        f"--tls-cert-file={p('apiserver.crt')}", f"--tls-private-key-file={p('apiserver.key')}",
        f"--client-ca-file={p('ca.crt')}",
        "--authorization-mode=Node,RBAC",
        f"--service-account-key-file={p('sa.pub')}", f"--service-account-signing-key-file={p('sa.key')}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        f"--kubelet-client-certificate={p('apiserver-kubelet-client.crt')}",
        f"--kubelet-client-key={p('apiserver-kubelet-client.key')}",
        f"--kubelet-certificate-authority={p('ca.crt')}",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        f"--requestheader-client-ca-file={p('front-proxy-ca.crt')}",
        "--requestheader-allowed-names=front-proxy-client", "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group", "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={p('front-proxy-client.crt')}",
        f"--proxy-client-key-file={p('front-proxy-client.key')}",
        f"--egress-selector-config-file={egress_config}",
        "--allow-privileged=true", "--profiling=false", "--v=1"])
    save()
    api = API(api_url, pki)
    wait_for("kube-apiserver /readyz", lambda: api.call("GET", "/readyz", timeout=3, attempts=1)[0] == 200, 90,
             ["kube-apiserver", "etcd", EGRESS_PROXY], pids=state["pids"])
    log("kube-apiserver ready")

    log("starting kube-controller-manager, kube-scheduler")
    kcm_kc = os.path.join(STATE, "controller-manager.kubeconfig")
    state["pids"]["kube-controller-manager"] = start("kube-controller-manager", [
        f"--kubeconfig={kcm_kc}", f"--authentication-kubeconfig={kcm_kc}", f"--authorization-kubeconfig={kcm_kc}",
        "--bind-address=127.0.0.1", f"--secure-port={kcm_port}", f"--cert-dir={os.path.join(STATE, 'kcm-certs')}",
        "--leader-elect=false", "--use-service-account-credentials=true",
        f"--root-ca-file={p('ca.crt')}", f"--service-account-private-key-file={p('sa.key')}",
        f"--cluster-signing-cert-file={p('ca.crt')}", f"--cluster-signing-key-file={p('ca.key')}",
        f"--cluster-name={CLUSTER_NAME}", f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--controllers=*", "--concurrent-deployment-syncs=5", "--profiling=false", "--v=1"])
    sched_kc = os.path.join(STATE, "scheduler.kubeconfig")
    state["pids"]["kube-scheduler"] = start("kube-scheduler", [
        f"--kubeconfig={sched_kc}", f"--authentication-kubeconfig={sched_kc}",
        f"--authorization-kubeconfig={sched_kc}",
        "--bind-address=127.0.0.1", f"--secure-port={sched_port}",
        f"--cert-dir={os.path.join(STATE, 'scheduler-certs')}", "--leader-elect=false",
        "--profiling=false", "--v=1"])
    save()

    readonly_rbac(api)
    install_kwok_crds(api)  # before kwok starts: it watches them
    log("starting kwok")
    state["pids"]["kwok"] = start("kwok", [
        f"--config={os.path.join(STATE, 'kwok.yaml')}",
        f"--kubeconfig={os.path.join(STATE, 'kwok.kubeconfig')}",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        f"--server-address=127.0.0.1:{kwok_port}", f"--node-port={kwok_port}", "--node-ip=127.0.0.1",
        f"--tls-cert-file={p('kwok-serving.crt')}", f"--tls-private-key-file={p('kwok-serving.key')}",
        f"--cidr={POD_CIDR}", "--node-lease-duration-seconds=40", "--enable-crds=PortForward,Logs"])
    save()

    for i, n in enumerate(NODES):
        api.ok("POST", "/api/v1/nodes", node_object(n, i), allow=(409,))

    insecure = ssl._create_unverified_context()  # components' self-signed serving certs
    for name, port in (("kube-controller-manager", kcm_port), ("kube-scheduler", sched_port)):
        wait_for(f"{name} /healthz", lambda port=port: http_ok(f"https://127.0.0.1:{port}/healthz", ctx=insecure),
                 60, [name], pids=state["pids"])
    kwok_ctx = ssl.create_default_context(cafile=p("ca.crt"))
    wait_for("kwok /healthz", lambda: http_ok(f"https://127.0.0.1:{kwok_port}/healthz", ctx=kwok_ctx), 60, ["kwok"],
             pids=state["pids"])
    sync_gateway_api(api, want_gw)
    wait_for("3 Ready, untainted nodes", lambda: nodes_ready(api), 60, ["kwok", "kube-controller-manager"],
             pids=state["pids"])
    wait_for("default ServiceAccount in namespace default",
             lambda: api.call("GET", "/api/v1/namespaces/default/serviceaccounts/default")[0] == 200,
             60, ["kube-controller-manager"], pids=state["pids"])
    save()
    log(f"cluster up in {time.time() - t0:.1f}s: {api_url}; read-only kubeconfig: {readonly_kubeconfig}")
    print(f"KUBECONFIG={kubeconfig}")
    return 0


def down_one():
    state = read_state()
    if not state and not os.path.exists(STATE):
        log(f"nothing to stop in {STATE}")
        return 0
    stop_all(state)
    shutil.rmtree(STATE, ignore_errors=True)
    release_standin_ports(STATE)
    log(f"cluster down; removed {STATE}")
    return 0


def all_state_dirs():
    """Every instance under the cache (state-*, the parity tests' parity-state, an older checkout's state)."""
    if not os.path.isdir(CACHE):
        return []
    return sorted(os.path.join(CACHE, d) for d in os.listdir(CACHE)
                  if os.path.isfile(os.path.join(CACHE, d, "cluster.json")))


def cmd_down(args):
    if not args.all:
        return down_one()
    for path in all_state_dirs():
        with instance_lock(path):
            use_state(path)
            down_one()
    return 0


def summarize_connections(records):
    """Counts by decision, and every destination that was not plain loopback (with its counts)."""
    by_decision, others = {}, {}
    for r in records:
        by_decision[r["decision"]] = by_decision.get(r["decision"], 0) + 1
        if r["decision"] != "allowed":
            key = (r["decision"], r["destination"], r.get("mapped_to"), r.get("service") or r.get("pod"))
            others[key] = others.get(key, 0) + 1
    return by_decision, others


def cmd_connections(args):
    records = connection_log(STATE)
    by_decision, others = summarize_connections(records)
    print(f"connection log: {os.path.join(STATE, 'egress.log')} ({len(records)} CONNECT attempts)")
    for decision in ("allowed", "mapped", "refused"):
        print(f"  {decision:<8} {by_decision.get(decision, 0)}")
    for (decision, dest, mapped, name), n in sorted(others.items(), key=lambda kv: -kv[1]):
        print(f"  {n:>5} x {decision:<8} {dest}" + (f" -> {mapped}" if mapped else "") + (f"  ({name})" if name else ""))
    return 0


def cmd_status(args):
    state = read_state()
    if not state:
        print(f"cluster: not running (no state in {STATE})")
        return 3
    ok, why = healthy(state)
    print(f"cluster: {'healthy' if ok else 'UNHEALTHY: ' + why}")
    print(f"api: {state['api_url']}  (Kubernetes {state['version']})")
    print(f"kubeconfig: {state['kubeconfig']}")
    print(f"readonly kubeconfig: {state['readonly_kubeconfig']}")
    print(f"gateway-api CRDs: {'installed' if state.get('gateway_api') else 'not installed'}")
    print("stand-in forwards: " + ", ".join(f"pod:{k} -> 127.0.0.1:{v}" for k, v in state["standin_ports"].items()))
    print(f"connection log: {state.get('connection_log')}  (tests/cluster connections)")
    for name in COMPONENTS:
        pid = state["pids"].get(name)
        alive = bool(pid) and pid_alive(pid, state["binaries"][name])
        port = state["ports"].get(name) or state["ports"].get(name + "-client")
        print(f"  {name:<24} pid={pid!s:<8} {'alive' if alive else 'DEAD':<6} port={port}  "
              f"log={os.path.join(STATE, 'logs', name + '.log')}")
    return 0 if ok else 1


@contextmanager
def instance_lock(state_dir):
    """Serialise up/down of one instance across concurrent callers (other test sessions, the demo)."""
    os.makedirs(os.path.dirname(state_dir), exist_ok=True)
    with open(state_dir + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def main(argv=None):
    ap = argparse.ArgumentParser(prog="tests/cluster", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--instance", help=f"instance name (state dir <cache>/state-NAME); default "
                                           f"${STATE_ENV} or '{DEFAULT_INSTANCE}'")
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", parents=[common], help="start the cluster (idempotent)")
    up.add_argument("--no-gateway-api", action="store_true",
                    help="do not install (and remove, if present) the Gateway API CRDs")
    down = sub.add_parser("down", parents=[common], help="stop the cluster and remove its state")
    down.add_argument("--all", action="store_true", help="every instance under ~/.cache/ambientctl/cluster")
    sub.add_parser("status", parents=[common], help="show what runs")
    sub.add_parser("connections", parents=[common], help="summary of the egress proxy's connection log")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `tests/cluster status | head` stays quiet
    try:
        use_state(default_state_dir(args.instance))
    except ValueError as e:
        ap.error(str(e))
    if args.cmd in ("status", "connections"):
        return {"status": cmd_status, "connections": cmd_connections}[args.cmd](args)
    if args.cmd == "down" and args.all:
        return cmd_down(args)
    with instance_lock(STATE):
        return {"up": cmd_up, "down": cmd_down}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
