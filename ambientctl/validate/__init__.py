"""`validate -f FILE|DIR`: offline checks of the Istio kinds ambient uses, one line per problem.

`files` reads YAML documents from files, directories (`.yaml`, `.yml`, `.json`,
walked recursively as istioctl does) and stdin, refusing duplicate keys;
`shapes` holds each kind's fields and types (from Istio's API protos: names,
types, enums), so an unknown field, a wrong type or an unknown enum value is
named by its path; `rules` holds the checks istiod's validation webhook makes
on AuthorizationPolicy, PeerAuthentication, Telemetry and WasmPlugin, plus
basic checks of Gateway API Gateways and HTTPRoutes (which istioctl does not
check). `run` ties them into a report. Pure: no cluster, no `kubernetes`
import; may import the rule modules only.
"""

from __future__ import annotations

from ambientctl.validate.report import Finding, Report, run

__all__ = ["Finding", "Report", "run"]
