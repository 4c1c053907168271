"""Waypoints: the Gateway that puts an L7 proxy in front of a namespace's services (guide steps 8, 10 and 11).

Traffic goes through a waypoint only for what is *attached* with the label
`istio.io/use-waypoint=<name>`: a namespace, a Service or a pod. Pure spec
code (`manifest`: validation and the Gateway; `match`: Services of a
service account; `records`: the labels we added; `report`: list/status rows) is apart
from cluster operations (`cluster`: apply, wait, list, delete; `attach`: the
use-waypoint labels; `metrics`: request counts from the waypoint's pods), which
reach the cluster only through a `KubeClient` passed in. May import the rule
modules (`gateways`, `labels`, `names`, `ownership`, `workloads`), `errors`
and `kube/`; never `cli/`. Which Gateway is a waypoint is `ambientctl.gateways`.
"""
