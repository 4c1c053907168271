"""Generate ztunnel-shaped admin config dumps (``/config_dump``) for tests.

Certificates are created fresh with ``cryptography``: one root CA (subject
``O=cluster.local``) and, per identity, a leaf with URI SAN
``spiffe://cluster.local/ns/<ns>/sa/<sa>`` valid for 24 h.  Private keys never
leave this module (they are not part of the dump and are never printed).

Shape (matching current ztunnel's ``/config_dump``)::

    {"certificates": [{"identity": "spiffe://cluster.local/ns/default/sa/sleep",
                       "state": "Available",
                       "certChain": [{"pem": <base64 of PEM text>, "serialNumber": "<decimal>",
                                      "validFrom": "<RFC3339 Z>", "expirationTime": "<RFC3339 Z>"}],
                       "rootCerts": [<same shape, for the root>]}],
     "workloads": [...], "services": [], "policies": []}
"""

from __future__ import annotations

import base64
import json
import datetime as _dt
import hashlib
import ipaddress
import uuid
from dataclasses import dataclass
from typing import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUST_DOMAIN = "cluster.local"


@dataclass
class Issued:
    """A certificate plus the key that signed/owns it (key kept for signing leaves only)."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def __repr__(self) -> str:  # never show key material
        return f"Issued(subject={self.cert.subject.rfc4514_string()!r}, serial={self.cert.serial_number})"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def spiffe_id(ns: str, sa: str, trust_domain: str = TRUST_DOMAIN) -> str:
    return f"spiffe://{trust_domain}/ns/{ns}/sa/{sa}"


def make_root(org: str = TRUST_DOMAIN, valid_for: _dt.timedelta = _dt.timedelta(days=3650),
              not_before: _dt.datetime | None = None) -> Issued:
    """Self-signed root CA with subject ``O=<org>`` (Istio's default root looks like this)."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or _now() - _dt.timedelta(minutes=1)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_leaf(root: Issued, ns: str, sa: str, valid_for: _dt.timedelta = _dt.timedelta(hours=24),
              not_before: _dt.datetime | None = None, trust_domain: str = TRUST_DOMAIN) -> Issued:
    """Workload leaf like istiod issues: empty subject, URI SAN = SPIFFE id, signed by ``root``."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or _now() - _dt.timedelta(minutes=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(root.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id(ns, sa, trust_domain))]),
            critical=True,
        )
        .sign(root.key, hashes.SHA256())
    )
    return Issued(cert, key)


def _rfc3339(t: _dt.datetime) -> str:
    return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cert_entry(cert: x509.Certificate) -> dict:
    """One ``certChain``/``rootCerts`` element as ztunnel renders it."""
    pem = cert.public_bytes(serialization.Encoding.PEM)
    return {
        "pem": base64.b64encode(pem).decode(),
        "serialNumber": str(cert.serial_number),
        "validFrom": _rfc3339(cert.not_valid_before_utc),
        "expirationTime": _rfc3339(cert.not_valid_after_utc),
    }


def _ip_for(ns: str, sa: str) -> str:
    h = hashlib.sha256(f"{ns}/{sa}".encode()).digest()
    return str(ipaddress.ip_address("10.244.0.0") + (int.from_bytes(h[:2], "big") % 65000) + 2)


def workload_entry(ns: str, sa: str, node: str = "ambient-worker", name: str | None = None,
                   waypoint: dict | None = None) -> dict:
    """A plausible ztunnel workload entry for a pod running as ``ns/sa``."""
    pod = name or f"{sa}-{uuid.uuid5(uuid.NAMESPACE_DNS, ns + sa).hex[:10]}-{uuid.uuid5(uuid.NAMESPACE_URL, sa).hex[:5]}"
    return {
        "uid": f"Kubernetes//Pod/{ns}/{pod}",
        "workloadIps": [_ip_for(ns, sa)],
        "protocol": "HBONE",
        "name": pod,
        "namespace": ns,
        "serviceAccount": sa,
        "node": node,
        "status": "Healthy",
        "workloadName": sa,
        "workloadType": "deployment",
        "canonicalName": sa,
        "canonicalRevision": "latest",
        "trustDomain": TRUST_DOMAIN,
        "clusterId": "Kubernetes",
        "capacity": 1,
        "waypoint": waypoint,
    }


def generate_dump(identities: Iterable[tuple[str, str]], states: dict | None = None, *,
                  root: Issued | None = None, node: str = "ambient-worker", with_workloads: bool = True,
                  leaf_validity: _dt.timedelta = _dt.timedelta(hours=24)) -> dict:
    """Build a ztunnel ``/config_dump`` for ``identities`` (``[(namespace, serviceaccount), ...]``).

    ``states`` maps an identity (either the SPIFFE URI or the ``(ns, sa)`` tuple) to a state
    string: ``"Available"`` (default, real certs), ``"Initializing"`` or ``"Unavailable: <reason>"``
    (both rendered with empty ``certChain``/``rootCerts``, as ztunnel does).
    """
    states = states or {}
    root = root or make_root()
    certs = []
    workloads = []
    for ns, sa in identities:
        ident = spiffe_id(ns, sa)
        state = states.get(ident, states.get((ns, sa), "Available"))
        if state == "Available":
            leaf = make_leaf(root, ns, sa, valid_for=leaf_validity)
            chain, roots = [cert_entry(leaf.cert)], [cert_entry(root.cert)]
        else:
            chain, roots = [], []
        certs.append({"identity": ident, "state": state, "certChain": chain, "rootCerts": roots})
        if with_workloads:
            workloads.append(workload_entry(ns, sa, node=node))
    return {"certificates": certs, "workloads": workloads, "services": [], "policies": []}


def decode_pem(entry: dict) -> x509.Certificate:
    """Inverse of :func:`cert_entry` (handy in tests)."""
    return x509.load_pem_x509_certificate(base64.b64decode(entry["pem"]))


# -- dumps at scale -------------------------------------------------------------------------------
#
# A real ztunnel serialises its /config_dump with serde_json's `to_string_pretty` after
# `to_value`, so every object's keys come out sorted and the text is indented by two
# spaces; top-level sections: certificates, config, policies, services, stagedServices,
# staticConfig, version, workloadState, workloads (workloads last). Field names are
# ztunnel's (src/state/workload.rs, service.rs, rbac.rs, admin.rs). A workload is
# ~450-500 bytes of text, as in a real dump.


@dataclass(frozen=True)
class MeshShape:
    """How many of each object a mesh of `workloads` pods has, in the proportions of a real cluster."""

    workloads: int
    pods_per_namespace: int = 100
    pods_per_node: int = 100
    replicas: int = 5            # pods per service (a Deployment of 5)
    policies_per_namespace: int = 5
    waypoint_every: int = 2      # every second namespace has a namespace waypoint

    @property
    def namespaces(self) -> int:
        return max(2, -(-self.workloads // self.pods_per_namespace))

    @property
    def nodes(self) -> int:
        return max(2, -(-self.workloads // self.pods_per_node))

    @property
    def services(self) -> int:
        return -(-self.workloads // self.replicas)

    @property
    def policies(self) -> int:
        return self.namespaces * self.policies_per_namespace + 1


def _ip(base: str, index: int) -> str:
    return str(ipaddress.ip_address(base) + index)


def _scale_names(shape: MeshShape, i: int) -> tuple[str, str, str, str]:
    """(namespace, app, pod name, node) of workload `i`."""
    ns_index = i % shape.namespaces
    slot = i // shape.namespaces
    app = f"app-{slot // shape.replicas:04d}"
    pod = f"{app}-{hashlib.md5(f'{ns_index}/{app}'.encode()).hexdigest()[:10]}-{hashlib.md5(str(i).encode()).hexdigest()[:5]}"
    return f"ns-{ns_index:04d}", app, pod, f"node-{i % shape.nodes:04d}"


def _pretty(item: object, indent: int) -> str:
    """serde_json's pretty text of `item` (sorted keys), nested `indent` spaces deep."""
    text = json.dumps(item, indent=2, sort_keys=True)
    return text.replace("\n", "\n" + " " * indent) if indent else text


def _waypoint_vip(shape: MeshShape, ns_index: int) -> str | None:
    if ns_index % shape.waypoint_every:
        return None
    return _ip("10.97.0.0", ns_index)


def scale_workload(shape: MeshShape, i: int) -> dict:
    ns, app, pod, node = _scale_names(shape, i)
    ns_index = i % shape.namespaces
    item: dict = {
        "canonicalName": app, "canonicalRevision": "v1", "capacity": 1, "clusterId": "Kubernetes",
        "name": pod, "namespace": ns, "networkMode": "Standard", "node": node, "protocol": "HBONE",
        "serviceAccount": app, "services": [f"{ns}/{app}.{ns}.svc.cluster.local"],
        "status": "Healthy" if i % 97 else "Unhealthy", "trustDomain": TRUST_DOMAIN,
        "uid": f"Kubernetes//Pod/{ns}/{pod}", "workloadIps": [_ip("10.244.0.2", i)],
        "workloadName": app, "workloadType": "deployment",
    }
    vip = _waypoint_vip(shape, ns_index)
    if vip:
        item["waypoint"] = {"destination": f"/{vip}", "hboneMtlsPort": 15008}
    return item


def scale_service(shape: MeshShape, j: int) -> dict:
    ns_index = j % shape.namespaces
    ns = f"ns-{ns_index:04d}"
    app = f"app-{j // shape.namespaces:04d}"
    endpoints = {}
    for r in range(shape.replicas):
        i = (j // shape.namespaces * shape.replicas + r) * shape.namespaces + ns_index
        if i >= shape.workloads:
            break
        uid = f"Kubernetes//Pod/{ns}/{_scale_names(shape, i)[2]}"
        endpoints[uid] = {"port": {"80": 8080}, "status": "Healthy", "workloadUid": uid}
    item: dict = {
        "canonical": True, "endpoints": endpoints, "hostname": f"{app}.{ns}.svc.cluster.local",
        "ipFamilies": "IPv4", "name": app, "namespace": ns, "ports": {"80": 8080},
        "subjectAltNames": [], "vips": [f"/{_ip('10.96.0.10', j)}"], "visibility": "Public",
    }
    vip = _waypoint_vip(shape, ns_index)
    if vip:
        item["waypoint"] = {"destination": f"/{vip}", "hboneMtlsPort": 15008}
    return item


def waypoint_service(shape: MeshShape, ns_index: int) -> dict:
    ns = f"ns-{ns_index:04d}"
    return {"canonical": True, "endpoints": {}, "hostname": f"waypoint.{ns}.svc.cluster.local",
            "ipFamilies": "IPv4", "name": "waypoint", "namespace": ns, "ports": {"15008": 15008, "15021": 15021},
            "subjectAltNames": [], "vips": [f"/{_waypoint_vip(shape, ns_index)}"], "visibility": "Public"}


def scale_policy(shape: MeshShape, k: int) -> dict:
    if k == 0:
        return {"action": "Deny", "dryRun": False, "name": "istio_converted_static_strict", "namespace": "istio-system",
                "rules": [[[{"notPrincipals": [{"Presence": []}]}]]], "scope": "Global"}
    ns = f"ns-{(k - 1) % shape.namespaces:04d}"
    allowed = f"ns-{k % shape.namespaces:04d}"
    return {"action": "Allow" if k % 7 else "Deny", "dryRun": False, "name": f"policy-{(k - 1) // shape.namespaces}",
            "namespace": ns, "rules": [[[{"namespaces": [{"Exact": allowed}]}], [{"destinationPorts": [8080]}]]],
            "scope": "Namespace" if k % 3 == 0 else "WorkloadSelector"}


_SCALE_CONFIG = {
    "adminAddr": "[::1]:15000", "caAddress": "https://istiod.istio-system.svc:15012", "clusterDomain": "cluster.local",
    "clusterId": "Kubernetes", "dnsProxy": True, "inboundAddr": "[::]:15008", "inpodEnabled": True,
    "localNode": "node-0000", "network": "", "outboundAddr": "[::]:15001", "proxy": True,
    "proxyMetadata": {"ISTIO_META_DNS_CAPTURE": "true"}, "readinessAddr": "[::]:15021",
    "socks5Addr": None, "statsAddr": "[::]:15020", "xdsAddress": "https://istiod.istio-system.svc:15012",
    "xdsOnDemand": False, "workerThreads": 2,
}


def write_scale_dump(path: str, workloads: int, *, node: str = "node-0000", root: Issued | None = None,
                     shape: MeshShape | None = None) -> MeshShape:
    """Write a ztunnel /config_dump of a mesh of `workloads` pods to `path`, streaming (no giant dict).

    The certificates are those of `node`'s share of the workloads (one identity per
    service account running there), as a ztunnel on that node holds.
    """
    shape = shape or MeshShape(workloads)
    root = root or make_root()
    root_entry = cert_entry(root.cert)
    local = [i for i in range(node_index(node), workloads, shape.nodes)]
    accounts = sorted({(_scale_names(shape, i)[0], _scale_names(shape, i)[1]) for i in local})
    with open(path, "w", encoding="utf-8") as out:
        out.write("{\n")

        def section(name: str, items: Iterable[str], last: bool = False) -> None:
            out.write(f'  "{name}": [')
            first = True
            for text in items:
                out.write(("\n    " if first else ",\n    ") + text)
                first = False
            out.write("]" if first else "\n  ]")
            out.write("\n" if last else ",\n")

        section("certificates", (_pretty({"certChain": [cert_entry(make_leaf(root, ns, sa).cert)],
                                           "identity": spiffe_id(ns, sa), "rootCerts": [root_entry],
                                           "state": "Available"}, 4) for ns, sa in accounts))
        out.write(f'  "config": {_pretty(_SCALE_CONFIG | {"localNode": node}, 2)},\n')
        section("policies", (_pretty(scale_policy(shape, k), 4) for k in range(shape.policies)))
        services = [scale_service(shape, j) for j in range(shape.services)]
        services += [waypoint_service(shape, n) for n in range(0, shape.namespaces, shape.waypoint_every)]
        services.sort(key=lambda s: s["hostname"])
        section("services", (_pretty(s, 4) for s in services))
        del services
        out.write('  "stagedServices": {},\n')
        out.write('  "staticConfig": {\n    "policies": [],\n    "services": [],\n    "workloads": []\n  },\n')
        out.write('  "version": {\n    "buildProfile": "release",\n    "buildStatus": "Clean",\n'
                  '    "gitRevision": "62d82653",\n    "istioVersion": "1.31.0",\n    "rustVersion": "1.90.0",\n'
                  '    "version": "1.31.0"\n  },\n')
        state = {}
        for i in local:
            ns, sa, pod, _ = _scale_names(shape, i)
            state[f"Kubernetes//Pod/{ns}/{pod}"] = {
                "connections": {"inbound": [], "outbound": []},
                "info": {"name": pod, "namespace": ns, "serviceAccount": sa, "trustDomain": TRUST_DOMAIN},
                "state": "Up"}
        out.write(f'  "workloadState": {_pretty(state, 2)},\n')
        uids = sorted((f"Kubernetes//Pod/{_scale_names(shape, i)[0]}/{_scale_names(shape, i)[2]}", i)
                      for i in range(workloads))
        section("workloads", (_pretty(scale_workload(shape, i), 4) for _, i in uids), last=True)
        out.write("}\n")
    return shape


def node_index(node: str) -> int:
    return int(node.rsplit("-", 1)[1])
