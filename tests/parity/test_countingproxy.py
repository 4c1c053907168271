"""The counting proxy relays what the API server says and counts each request once."""

from __future__ import annotations

import uuid

import pytest

from tests.support.countingproxy import CountingProxy

pytestmark = pytest.mark.e2e


def test_reads_writes_and_errors_pass_through_and_are_counted(parity_cluster):
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    name = f"proxy-{uuid.uuid4().hex[:8]}"
    with CountingProxy.from_kubeconfig(parity_cluster.kubeconfig) as proxy:
        core = client.CoreV1Api(config.new_client_from_config(config_file=proxy.kubeconfig))
        with pytest.raises(ApiException) as missing:
            core.read_namespace(name)
        assert missing.value.status == 404
        # A write right after an error response on the same kept-alive connection.
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        assert core.read_namespace(name).metadata.name == name
        core.delete_namespace(name)
        assert proxy.by_verb() == {"create": 1, "delete": 1, "get": 2}
        assert [r.status for r in proxy.snapshot()] == [404, 201, 200, 200]
