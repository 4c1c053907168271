"""Revisions of the control plane: what is installed per revision, revision tags, versions, upgrades.

istioctl's `tag`, `version --remote` and `upgrade` read the same objects:
the per-revision istiod Deployment, Service and sidecar-injector webhook
(`istio.io/rev=REV`), and the tag webhooks and Services (`istio.io/tag=TAG`).
Pure functions build and print; functions that take a `KubeClient` fetch and
write. May import the rule modules, `kube/`, `install/` and `render/` (an
upgrade is an install with a plan and a diff shown first) and `mesh/`.
"""
