"""Proxy config dumps: everything `proxy-config` (pc) and `ztunnel-config` (zc) read and print.

Sources (`sources`: file, stdin, a pod's admin port), the pod a command means
(`target`: a workload pod resolves to the ztunnel on its node), the one model
(`model`) that the three dump shapes are parsed into (`shapes`), redaction
(`redact`), certificates (`certs`, `decode`), identity selection
(`identities`), the -o json/yaml documents (`documents`), pure text printers
(`printers/`), and the one cluster look-up for error hints (`hints`). The
Envoy xDS views live in `envoy/`. May import `errors`, `labels`, `lazyre`,
`output` and `kube/` (never `cli/`); `kubernetes` and `cryptography` are
imported only inside the functions that need them. Keep this module free of
imports: `pc secret --file` pays for every module it loads.
"""
