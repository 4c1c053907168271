"""Stands in for istio-cni's node agent: its effect on the Kubernetes API, and nothing more.

Why: istiod marks a workload HBONE (and ztunnel then fetches a certificate for it) only
when its pod carries ``ambient.istio.io/redirection: enabled``.  On a real cluster the
istio-cni node agent sets that annotation after it has redirected the pod's traffic into
ztunnel, and removes it when the pod leaves the mesh.  The test cluster's pods are
simulated (kwok): no CNI plugin runs and no pod has a network namespace, so this
controller only mirrors the decision in the API:

* a pod in a namespace labelled ``istio.io/dataplane-mode=ambient`` gets the annotation,
  unless the pod opts out (label ``istio.io/dataplane-mode=none``), uses the host network,
  has a sidecar (``sidecar.istio.io/status``), or is not Running with an IP yet;
* a pod that no longer qualifies (namespace unlabelled, pod opted out) loses it.

It redirects nothing: no traffic is captured and no policy is enforced by it.
"""

from __future__ import annotations

import threading

ANNOTATION = "ambient.istio.io/redirection"
DATAPLANE_LABEL = "istio.io/dataplane-mode"


def wants_redirection(pod, ambient_namespaces: set[str]) -> bool:
    """istio-cni's choice for one pod, from what the API shows."""
    labels = pod.metadata.labels or {}
    annotations = pod.metadata.annotations or {}
    return (pod.metadata.namespace in ambient_namespaces
            and labels.get(DATAPLANE_LABEL) != "none"
            and not pod.spec.host_network
            and "sidecar.istio.io/status" not in annotations
            and pod.status.phase == "Running" and bool(pod.status.pod_ip)
            and not pod.metadata.deletion_timestamp)


class CniStandIn:
    """Polls namespaces and pods (every ``interval`` seconds) and sets/removes the annotation."""

    def __init__(self, api, interval: float = 0.5) -> None:
        from kubernetes import client

        self.core = client.CoreV1Api(api)
        self.interval = interval
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="istio-cni-standin")

    def start(self) -> "CniStandIn":
        self.sync()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except Exception as exc:  # noqa: BLE001 - kept for the tests to report; the loop goes on
                self.errors.append(exc)

    def sync(self) -> None:
        """One pass: annotate what qualifies, un-annotate what no longer does."""
        from kubernetes.client.rest import ApiException

        ambient = {ns.metadata.name for ns in self.core.list_namespace(
            label_selector=f"{DATAPLANE_LABEL}=ambient").items}
        for pod in self.core.list_pod_for_all_namespaces().items:
            has = (pod.metadata.annotations or {}).get(ANNOTATION) == "enabled"
            want = wants_redirection(pod, ambient)
            if has == want:
                continue
            patch = {"metadata": {"annotations": {ANNOTATION: "enabled" if want else None}}}
            try:
                self.core.patch_namespaced_pod(pod.metadata.name, pod.metadata.namespace, patch)
            except ApiException as exc:
                if exc.status != 404:  # deleted meanwhile
                    raise
