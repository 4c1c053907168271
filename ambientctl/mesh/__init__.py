"""The mesh as ambientctl reads it: one cluster-free model that `analyze`, `x authz` and `x graph` share.

`model` is the MeshState (namespaces, pods, Services, waypoints, policies)
and its waypoint resolution; `files` overlays local YAML on it and `load`
fills it from the cluster (the only modules here that read input). Readers
of the model: `authz` (policy generation, who enforces a policy), `graph`
(the mesh as a tree, Mermaid, Graphviz). Beside them, `dataplane` enrols
namespaces and `components` reads the installed Istio component versions
(for `version`). May import the rule modules (`gateways`, `labels`,
`workloads`, `ownership`), `errors` and `kube/`; never `cli/`, `analyze/`
or `waypoint/`.
"""
