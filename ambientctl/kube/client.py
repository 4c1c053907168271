"""The one kube client every command uses (lightkube's Client, on the official client).

It holds the API client, the default namespace, the field manager and the
request timeout, and offers the verbs the commands need. Every request goes
through `request()`, which turns transport and HTTP failures into the typed
errors of `ambientctl.errors`, so no command ever sees an ApiException.
"""

from __future__ import annotations

import gc
import json
import time
from typing import Any, Iterator, Mapping, Sequence

import urllib3
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ambientctl.errors import (
    AmbientctlError,
    ApiServerError,
    ClusterUnreachableError,
    ConflictError,
    CRDMissingError,
    ForbiddenError,
    InvalidObjectError,
    KubeconfigInvalidError,
    KubeTimeoutError,
    ListExpiredError,
    NotFoundError,
    UnauthorizedError,
    UsageError,
)
from ambientctl.kube import DEFAULT_TIMEOUT, FIELD_MANAGER
from ambientctl.kube.config import find_kubeconfig, merge_kubeconfigs, select_context
from ambientctl.kube.resources import KNOWN_RESOURCES, ResourceType, crd_established

LIST_PAGE = 500  # objects per LIST page (kubectl's and client-go's default chunk size)
LIST_RESTARTS = 2  # a LIST whose continue token expired starts again from its first page this many times
_NOT_SERVED = "the server could not find the requested resource"
_VERB_BY_METHOD = {"GET": "get", "POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}


def impersonation_headers(user: str | None, groups: Sequence[str] = (),
                          uid: str | None = None) -> list[tuple[str, str]]:
    """Kubernetes' impersonation headers; groups or a uid need a user, as kubectl says."""
    if not user:
        if groups or uid:
            raise UsageError("--as-group and --as-uid need --as (the user to impersonate)",
                             "add --as USER, e.g. --as system:serviceaccount:NS:NAME")
        return []
    headers = [("Impersonate-User", user)] + [("Impersonate-Group", group) for group in groups]
    return headers + ([("Impersonate-Uid", uid)] if uid else [])


# API server host:port → impersonation header lines for its websockets (see _impersonate_websockets).
_WEBSOCKET_HEADERS: dict[str, list[str]] = {}


def _impersonate_websockets(server: str, impersonation: Sequence[tuple[str, str]]) -> None:
    """Port-forwards impersonate too: the official client's websocket sends only `Authorization`.

    Its `create_websocket` builds the header list itself, so the WebSocket class it
    uses gets the impersonation headers of the API server it connects to.
    """
    from urllib.parse import urlsplit

    from kubernetes.stream import ws_client

    _WEBSOCKET_HEADERS[urlsplit(server).netloc] = [f"{name}: {value}" for name, value in impersonation]
    if getattr(ws_client.WebSocket, "adds_impersonation", False):
        return

    class ImpersonatingWebSocket(ws_client.WebSocket):  # type: ignore[misc, name-defined]
        adds_impersonation = True

        def connect(self, url: str, **options: Any) -> Any:
            extra = _WEBSOCKET_HEADERS.get(urlsplit(url).netloc)
            if extra:
                options["header"] = [*(options.get("header") or []), *extra]
            return super().connect(url, **options)

    ws_client.WebSocket = ImpersonatingWebSocket


class KubeClient:
    """A connection to one cluster, with ambientctl's defaults."""

    def __init__(
        self,
        api_client: k8s_client.ApiClient,
        *,
        context_name: str,
        default_namespace: str = "default",
        field_manager: str = FIELD_MANAGER,
        timeout: float = DEFAULT_TIMEOUT,
        impersonation: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.api = api_client
        self.impersonation = tuple(impersonation)  # (header, value) pairs sent with every request
        self.context_name = context_name
        self.default_namespace = default_namespace
        self.field_manager = field_manager
        self.timeout = timeout
        self._discovered: dict[tuple[str, str], ResourceType] = {}
        self.request_count = 0

    @classmethod
    def connect(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        *,
        namespace: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        impersonate_user: str | None = None,
        impersonate_groups: Sequence[str] = (),
        impersonate_uid: str | None = None,
    ) -> KubeClient:
        """A client for one kubeconfig context (the current one if None; in-cluster config if no kubeconfig).

        `namespace` replaces the context's namespace as the default for calls that name none.
        `impersonate_*` act as another user (kubectl's --as, --as-group, --as-uid).
        """
        impersonation = impersonation_headers(impersonate_user, impersonate_groups, impersonate_uid)
        source = find_kubeconfig(kubeconfig)
        configuration = k8s_client.Configuration()
        if source.in_cluster:
            k8s_config.load_incluster_config(client_configuration=configuration)
            context_name, context_namespace = "in-cluster", "default"
        else:
            merged = merge_kubeconfigs(source.paths)
            context_name, selected = select_context(merged, context)
            context_namespace = selected.get("namespace") or "default"
            try:
                k8s_config.load_kube_config(
                    config_file=source.joined,
                    context=context_name,
                    client_configuration=configuration,
                    persist_config=False,
                )
            except (ConfigException, OSError, ValueError, TypeError) as exc:
                raise KubeconfigInvalidError(
                    f'kubeconfig context "{context_name}" cannot be used: {_first_line(exc)}',
                    "check its cluster, user and certificate entries",
                ) from None
        configuration.retries = 1
        if impersonation:
            _impersonate_websockets(configuration.host, impersonation)
        return cls(
            k8s_client.ApiClient(configuration),
            context_name=context_name,
            default_namespace=namespace or context_namespace,
            timeout=timeout,
            impersonation=impersonation,
        )

    def _with_impersonation(self, headers: Mapping[str, str]) -> Mapping[str, str]:
        """The request's headers plus the impersonation ones (a header may repeat: one per --as-group)."""
        if not self.impersonation:
            return headers
        merged = urllib3.HTTPHeaderDict(headers)
        for name, value in self.impersonation:
            merged.add(name, value)
        return merged

    @property
    def server(self) -> str:
        return self.api.configuration.host

    # ------------------------------------------------------------------ transport

    def request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, Any]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | None = None,
        what: str = "",
    ) -> dict[str, Any]:
        """One API call; returns the decoded JSON body or raises a typed error."""
        method_, url, headers, body_, _ = self.api.param_serialize(
            method,
            path,
            query_params=query or [],
            header_params={"Content-Type": content_type, "Accept": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
        )
        self.request_count += 1
        try:
            response = self.api.call_api(
                method_, url, header_params=self._with_impersonation(headers), body=body_, _request_timeout=timeout or self.timeout
            )
            data = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._transport_error(exc, what or f"{method} {path}") from None
        except ApiException as exc:  # TLS failures surface as status 0
            raise self._transport_error(exc, what or f"{method} {path}") from None
        if 200 <= response.status < 300:
            return decode_json(data) if data else {}
        raise self._http_error(method, path, response.status, data, what)

    def stream_lines(self, path: str, query: list[tuple[str, Any]], timeout: float) -> Iterator[dict[str, Any]]:
        """GET a streaming endpoint (watch) and yield each JSON line."""
        method_, url, headers, _, _ = self.api.param_serialize(
            "GET", path, query_params=query, header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        self.request_count += 1
        try:
            response = self.api.rest_client.pool_manager.request(
                "GET", url, headers=self._with_impersonation(headers), preload_content=False,
                timeout=urllib3.Timeout(connect=self.timeout, read=timeout + 5),
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._transport_error(exc) from None
        if response.status != 200:
            raise self._http_error("GET", path, response.status, response.data, "watch")
        try:
            buffer = b""
            for chunk in response.stream(4096):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line)
        except urllib3.exceptions.ReadTimeoutError:
            return
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._transport_error(exc) from None
        finally:
            response.release_conn()

    def _transport_error(self, exc: BaseException, what: str = "") -> AmbientctlError:
        text = str(exc)
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            text = str(exc.reason)
            exc = exc.reason
        timeouts = (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError, TimeoutError)
        if isinstance(exc, timeouts) and not isinstance(exc, urllib3.exceptions.NewConnectionError):
            return KubeTimeoutError(
                f"the API server at {self.server} did not answer within {self.timeout:g}s (context {self.context_name})"
                + (f"; still waiting for: {what}" if what else ""),
                "check the cluster's health, or raise --request-timeout",
            )
        if "SSL" in type(exc).__name__ or "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text:
            return ClusterUnreachableError(
                f"TLS verification failed for {self.server} (context {self.context_name})",
                "the kubeconfig's certificate-authority does not match the server; fix the kubeconfig",
            )
        return ClusterUnreachableError(
            f"cluster unreachable at {self.server} (context {self.context_name})",
            "check that the cluster is running and that --context/--kubeconfig point at it",
        )

    def _http_error(self, method: str, path: str, status: int, data: bytes, what: str) -> AmbientctlError:
        status_obj = _decode_status(data)
        message = status_obj.get("message") or data.decode("utf-8", "replace")[:200]
        verb = _VERB_BY_METHOD.get(method, method.lower())
        target = what or path
        if status == 401:
            return UnauthorizedError(
                f"the API server at {self.server} rejected the credentials of context {self.context_name}",
                "refresh your credentials (log in again) or fix the kubeconfig user",
            )
        if status == 403:
            resource, namespace = _resource_from_path(path)
            where = f' in namespace "{namespace}"' if namespace else " cluster-wide"
            return ForbiddenError(
                f"forbidden: not allowed to {verb} {resource}{where} ({message})",
                f"ask a cluster admin for RBAC permission to {verb} {resource}{where}",
            )
        if status == 404:
            if message.startswith(_NOT_SERVED) or not status_obj:
                return CRDMissingError(
                    f"the cluster does not serve {_api_group_of(path)} ({target})",
                    "install its CRDs (ambientctl install, or the Gateway API CRDs), then retry; "
                    "`ambientctl precheck` checks this",
                )
            return NotFoundError(message)
        if status == 409:
            return ConflictError(_conflict_text(status_obj, message), "re-run with --force-conflicts to take ownership")
        if status in (400, 422):
            return InvalidObjectError(f"{target} rejected by the API server: {message}")
        if status in (408, 504) or status_obj.get("reason") == "Timeout":
            return KubeTimeoutError(f"the API server timed out on {target}: {message}", "retry, or raise --request-timeout")
        if "failed calling webhook" in message:  # an admission webhook's backend is down or too slow
            return ApiServerError(
                f"an admission webhook rejected {verb} {target}: {message}",
                "the webhook's service is down or slow: fix it, or remove its Validating/MutatingWebhookConfiguration "
                "(kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations), then re-run",
            )
        if status == 410:  # only LISTs with a `continue` token: etcd compacted the revision they read
            return ListExpiredError(f"the list of {target} expired while it was being read in pages ({message})",
                                    "retry; on a busy cluster, narrow it with -n or a selector")
        if status == 429:
            return ApiServerError(f"the API server is throttling requests ({message})", "wait and retry")
        return ApiServerError(f"the API server failed on {verb} {target}: HTTP {status} {message}", "retry later")

    # -------------------------------------------------------------- resource types

    def resource_type(self, api_version: str, kind: str) -> ResourceType:
        """REST mapping for a kind: the built-in table, else discovery of its group/version."""
        known = KNOWN_RESOURCES.get((api_version, kind)) or self._discovered.get((api_version, kind))
        if known:
            return known
        prefix = "/api" if "/" not in api_version else "/apis"
        try:
            listing = self.request("GET", f"{prefix}/{api_version}", what=f"API group {api_version}")
        except (NotFoundError, CRDMissingError):
            raise CRDMissingError(
                f"the cluster does not serve {api_version} (needed for {kind})",
                "install the CRDs that define it (ambientctl install), or run `ambientctl precheck`",
            ) from None
        for entry in listing.get("resources", []):
            if "/" not in entry["name"]:
                self._discovered[(api_version, entry["kind"])] = ResourceType(
                    api_version, entry["kind"], entry["name"], entry.get("namespaced", False)
                )
        if (api_version, kind) not in self._discovered:
            raise CRDMissingError(
                f"the cluster serves {api_version} but has no kind {kind}",
                "install a CRD version that defines it, or run `ambientctl precheck`",
            )
        return self._discovered[(api_version, kind)]

    def forget_discovery(self) -> None:
        """Drop discovered kinds, after CRDs change."""
        self._discovered.clear()

    def _ns(self, rtype: ResourceType, namespace: str | None) -> str | None:
        return (namespace or self.default_namespace) if rtype.namespaced else None

    # ----------------------------------------------------------------------- verbs

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        rtype = self.resource_type(api_version, kind)
        ns = self._ns(rtype, namespace)
        return self.request("GET", rtype.object_path(name, ns), what=_describe(kind, name, ns))

    def get_or_none(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return self.get(api_version, kind, name, namespace)
        except NotFoundError:
            return None

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        all_namespaces: bool = False,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        """List objects; items get apiVersion and kind filled in (the API omits them).

        Paginated (`limit`/`continue`, LIST_PAGE objects a page, as kubectl and client-go
        do), so a 10,000-pod namespace never comes back as one huge response.
        """
        rtype = self.resource_type(api_version, kind)
        ns = None if all_namespaces else self._ns(rtype, namespace)
        query = [("labelSelector", label_selector)] if label_selector else []
        if field_selector:
            query.append(("fieldSelector", field_selector))
        for attempt in range(LIST_RESTARTS + 1):
            try:
                items = self._list_pages(rtype.collection_path(ns), query, rtype.group_resource)
                break
            except ListExpiredError:
                if attempt == LIST_RESTARTS:
                    raise
        for item in items:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def _list_pages(self, path: str, query: list[tuple[str, Any]], what: str) -> list[dict[str, Any]]:
        """Every page of one consistent LIST; ListExpiredError if its `continue` token expires midway.

        A restart from the first page gives a consistent snapshot again; client-go instead falls
        back to one unpaged LIST, the very response paging is there to avoid."""
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            page = [("limit", LIST_PAGE), ("continue", token)] if token else [("limit", LIST_PAGE)]
            body = self.request("GET", path, query=query + page, what=what)
            items.extend(body.get("items") or [])
            token = (body.get("metadata") or {}).get("continue") or ""
            if not token:
                return items

    def apply(self, obj: dict[str, Any], *, force: bool = False, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply with our field manager; returns the object as stored."""
        rtype = self.resource_type(obj["apiVersion"], obj["kind"])
        meta = obj.get("metadata", {})
        ns = self._ns(rtype, meta.get("namespace"))
        if rtype.namespaced and not meta.get("namespace"):
            obj = {**obj, "metadata": {**meta, "namespace": ns}}
        query: list[tuple[str, Any]] = [("fieldManager", self.field_manager)]
        if force:
            query.append(("force", "true"))
        if dry_run:
            query.append(("dryRun", "All"))
        return self.request(
            "PATCH",
            rtype.object_path(meta["name"], ns),
            query=query,
            body=obj,
            content_type="application/apply-patch+yaml",
            what=_describe(obj["kind"], meta["name"], ns),
        )

    def merge_patch(
        self, api_version: str, kind: str, name: str, namespace: str | None, patch: dict[str, Any],
        *, dry_run: bool = False,
    ) -> dict[str, Any]:
        """JSON merge patch (for labels on objects we do not own)."""
        rtype = self.resource_type(api_version, kind)
        ns = self._ns(rtype, namespace)
        query: list[tuple[str, Any]] = [("fieldManager", self.field_manager)]
        if dry_run:
            query.append(("dryRun", "All"))
        return self.request(
            "PATCH", rtype.object_path(name, ns), query=query, body=patch,
            content_type="application/merge-patch+json", what=_describe(kind, name, ns),
        )

    def create(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        rtype = self.resource_type(obj["apiVersion"], obj["kind"])
        ns = self._ns(rtype, obj.get("metadata", {}).get("namespace"))
        query = [("dryRun", "All")] if dry_run else []
        return self.request("POST", rtype.collection_path(ns), query=query, body=obj,
                            what=_describe(obj["kind"], obj["metadata"].get("name", ""), ns))

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        uid: str | None = None,
        dry_run: bool = False,
    ) -> bool:
        """Delete one object (only that uid, if given); False if it was already gone."""
        rtype = self.resource_type(api_version, kind)
        ns = self._ns(rtype, namespace)
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if uid:
            body["preconditions"] = {"uid": uid}
        if dry_run:  # with a DeleteOptions body the server reads dryRun from the body, not the query
            body["dryRun"] = ["All"]
        try:
            self.request("DELETE", rtype.object_path(name, ns), body=body, what=_describe(kind, name, ns))
        except NotFoundError:
            return False
        except ConflictError:  # the uid precondition failed: a new object took the name
            return False
        return True

    def watch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout: float = 30.0,
    ) -> Iterator[dict[str, Any]]:
        """Yield watch events ({type, object}) until the server closes or `timeout`."""
        rtype = self.resource_type(api_version, kind)
        query: list[tuple[str, Any]] = [("watch", "true"), ("timeoutSeconds", int(max(1, timeout)))]
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        if resource_version:
            query.append(("resourceVersion", resource_version))
        yield from self.stream_lines(rtype.collection_path(self._ns(rtype, namespace)), query, timeout)

    def server_version(self) -> dict[str, Any]:
        return self.request("GET", "/version", what="server version")

    def can_i(self, verb: str, resource: str, group: str = "", namespace: str | None = None) -> bool:
        """SelfSubjectAccessReview: may the current user do this?"""
        attrs: dict[str, Any] = {"verb": verb, "resource": resource, "group": group}
        if namespace:
            attrs["namespace"] = namespace
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        result = self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review,
                              what="SelfSubjectAccessReview")
        return bool(result.get("status", {}).get("allowed"))

    def wait_crds_established(self, names: list[str], timeout: float, label_selector: str | None = None) -> None:
        """Block until every named CRD reports Established, so its kinds can be applied.

        With a label_selector that the CRDs carry, each poll is one LIST instead of one GET
        per CRD (an install's 15 CRDs: 1-2 requests instead of 15+).
        """
        crd_api = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
        deadline = time.monotonic() + timeout
        pending = list(dict.fromkeys(names))
        while pending:
            if label_selector and len(pending) > 1:
                listed = {c["metadata"]["name"]: c for c in self.list(*crd_api, label_selector=label_selector)}
                pending = [n for n in pending if not crd_established(listed.get(n))]
                if pending and not any(n in listed for n in pending):
                    label_selector = None  # they do not carry the label: fall back to GETs
            elif crd_established(self.get(*crd_api, pending[0])):
                pending.pop(0)
                continue
            if not pending:
                break
            if time.monotonic() > deadline:
                raise KubeTimeoutError(
                    f"CRDs not Established after {timeout:g}s: {', '.join(pending)}",
                    "check the API server's logs, then re-run",
                )
            time.sleep(0.2)
        self.forget_discovery()


FREEZE_AFTER = 1 << 20  # response bytes from which the decoded objects are moved out of the collector's sight


def decode_json(data: bytes) -> Any:
    """json.loads without the cycle collector ever walking the result.

    A decoded document holds no reference cycles, yet a 500-pod page (1.7 MB) is ~10^5
    new dicts and lists. With the collector running they were scanned while decoding and
    again on each promotion to an older generation: 10,000 pods cost 1.16-1.32 s CPU to
    LIST, 1.03-1.04 s with the collector paused while decoding and a big result frozen
    (gc.freeze moves every object alive then, the result among them, out of later
    collections' sight; they are still freed by reference counting when dropped, and a
    short-lived CLI does not miss the cycles among them).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        document = json.loads(data)
        if len(data) >= FREEZE_AFTER:
            gc.freeze()
        return document
    finally:
        if enabled:
            gc.enable()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _decode_status(data: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {}
    return decoded if isinstance(decoded, dict) and decoded.get("kind") == "Status" else {}


def _resource_from_path(path: str) -> tuple[str, str | None]:
    """(resource.group, namespace) from an API path, for RBAC messages."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts[:1] == ["api"]:
        group, rest = "", parts[2:]
    else:
        group, rest = (parts[1] if len(parts) > 1 else ""), parts[3:]
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] if rest else path
    return (f"{resource}.{group}" if group else resource), namespace


def _api_group_of(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "apis":
        return f"{parts[1]}/{parts[2]}"
    return "/".join(parts[:2])


def _conflict_text(status: dict[str, Any], message: str) -> str:
    """Name the conflicting fields and their managers from an apply 409."""
    causes = (status.get("details") or {}).get("causes") or []
    fields = [f"{c.get('field')} ({c.get('message')})" for c in causes if c.get("field")]
    if fields:
        return "apply conflict: " + "; ".join(fields)
    return f"conflict: {message}"


def _describe(kind: str, name: str, namespace: str | None) -> str:
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
