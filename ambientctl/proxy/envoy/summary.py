"""`pc all`: every section's table in istioctl's order (bootstrap, clusters, listeners, routes,
secrets, endpoints), each row named by its kind (`cluster/…`, `listener/…`, `route/…`,
`secret/…`, `endpoint/…`), with `------ CLUSTER INFO ------` headers on request.

As with istioctl, a section that cannot be shown stops the output there with an error;
what was printed before it stays printed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ambientctl.proxy.envoy import bootstrap, clusters, endpoints, listeners, routes
from ambientctl.proxy.envoy import dump as envoydump
from ambientctl.proxy.envoy.dump import EnvoyDump


@dataclass(frozen=True)
class AllFilters:
    """`pc all`'s flags: --port and --address apply to clusters, listeners and endpoints alike (as in istioctl)."""

    cluster: clusters.ClusterFilter = field(default_factory=clusters.ClusterFilter)
    listener: listeners.ListenerFilter = field(default_factory=listeners.ListenerFilter)
    route: routes.RouteFilter = field(default_factory=routes.RouteFilter)
    endpoint: endpoints.EndpointFilter = field(default_factory=endpoints.EndpointFilter)
    verbose: bool = True


def _secrets(dump: EnvoyDump, now: dt.datetime) -> str:
    from ambientctl.proxy.envoy import secrets

    envoydump.require(dump, envoydump.SECRETS)
    try:
        return secrets.format_summary(dump, now, config_type=True)
    except TypeError:  # C2's printer without the config-type prefix yet
        return secrets.format_summary(dump, now)


def sections(dump: EnvoyDump, filters: AllFilters, now: dt.datetime) -> list[tuple[str, Callable[[], str]]]:
    return [
        ("BOOTSTRAP INFO", lambda: bootstrap.format_summary(dump)),
        ("CLUSTER INFO", lambda: clusters.format_clusters(dump, filters.cluster, config_type=True)),
        ("LISTENER INFO", lambda: listeners.format_listeners(dump, filters.listener, filters.verbose,
                                                             config_type=True)),
        ("ROUTE INFO", lambda: routes.format_routes(dump, filters.route, filters.verbose, config_type=True)),
        ("SECRET INFO", lambda: _secrets(dump, now)),
        ("ENDPOINTS INFO", lambda: endpoints.format_eds(dump, filters.endpoint, config_type=True)),
    ]


def iter_summary(dump: EnvoyDump, filters: AllFilters, now: dt.datetime, with_headers: bool = False) -> Iterator[str]:
    """The text piece by piece, so a failing section still leaves the earlier ones printed."""
    for index, (title, render) in enumerate(sections(dump, filters, now)):
        if index:
            yield "\n"
        if with_headers:
            yield f"------ {title} ------\n\n"
        yield render()


def format_summary(dump: EnvoyDump, filters: AllFilters = AllFilters(), now: dt.datetime | None = None,
                   with_headers: bool = False) -> str:
    """The whole text (raises like `iter_summary` if a section fails)."""
    return "".join(iter_summary(dump, filters, now or dt.datetime.now(dt.timezone.utc), with_headers))
