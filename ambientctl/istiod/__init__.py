"""istiod's own admin surfaces: its pods, ControlZ logging scopes (port 9876) and HTTP debug endpoints (15014).

`pods` finds the istiod pods a command acts on; `controlz` is the scope model,
the `--level` grammar and the tables (pure); `debug` names the debug endpoints
and prints `/debug/clusterz` as istioctl's remote-clusters table (pure);
`admin` sends the requests through the API server's port-forward. May import
the rule modules and `kube/`.
"""
