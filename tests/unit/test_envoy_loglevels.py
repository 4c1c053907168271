"""`pc log` / `zc log`: the `--level` grammar istioctl accepts, and the `/logging` requests that
Envoy's and ztunnel's admin servers each understand (they differ)."""

from __future__ import annotations

import urllib.parse

import pytest

from ambientctl.errors import ExitCode, InvalidInputError, UsageError
from ambientctl.proxy.envoy import loglevels as ll

ENVOY_LISTING = """active loggers:
  admin: info
  connection: warning
  http: warning
  http2: warning
  router: warning
  upstream: warning
"""


def test_bare_level_means_every_logger_and_warn_is_warning():
    assert ll.parse_levels("debug") == [ll.LevelChange("level", "debug")]
    assert ll.parse_levels("warn") == [ll.LevelChange("level", "warning")]


def test_named_loggers_keep_the_users_order_after_the_global_level():
    changes = ll.parse_levels("http:debug,router=trace,info")
    assert changes == [ll.LevelChange("level", "info"), ll.LevelChange("http", "debug"),
                       ll.LevelChange("router", "trace")]


def test_istioctls_namespace_prefix_is_dropped():
    assert ll.parse_levels("envoy::http:debug") == [ll.LevelChange("http", "debug")]


@pytest.mark.parametrize("spec, message", [
    ("loud", "unrecognized logging level: loud"),
    ("http:loud", "unrecognized logging level: loud"),
    ("http:debug,,info", "empty clause"),
    (":debug", "no logger name"),
])
def test_bad_levels_are_usage_errors(spec, message):
    with pytest.raises(UsageError, match=message) as caught:
        ll.parse_levels(spec)
    assert caught.value.exit_code == ExitCode.USAGE


def test_level_and_reset_exclude_each_other():
    with pytest.raises(UsageError, match="--level cannot be combined with --reset"):
        ll.check_reset("debug", True)
    ll.check_reset(None, True)
    ll.check_reset("debug", False)


# -- Envoy ----------------------------------------------------------------------------------------


def test_envoy_listing_is_parsed():
    loggers = ll.parse_envoy_loggers(ENVOY_LISTING)
    assert loggers["admin"] == "info" and loggers["http"] == "warning" and len(loggers) == 6


def test_envoy_requests_set_all_loggers_first_then_each_named_one():
    paths = ll.envoy_paths(ll.parse_levels("http:debug,info"), ll.parse_envoy_loggers(ENVOY_LISTING))
    assert paths == ["/logging?level=info", "/logging?http=debug"]


def test_envoy_listing_only_without_changes():
    assert ll.envoy_paths([], {}) == ["/logging"]


def test_envoy_refuses_a_logger_it_does_not_have_before_changing_anything():
    with pytest.raises(InvalidInputError, match="unrecognized logger name: htp") as caught:
        ll.envoy_paths(ll.parse_levels("http:debug,htp:debug"), ll.parse_envoy_loggers(ENVOY_LISTING))
    assert "admin, connection, http" in caught.value.hint


@pytest.mark.parametrize("values, level", [
    (None, "warning"),
    ('{"global": {"proxy": {"logLevel": "debug"}}}', "debug"),
    ('{"global": {"proxy": {"logLevel": "warn"}}}', "warning"),
    ('{"global": {"proxy": {"logLevel": "shouting"}}}', "warning"),
    ("not json", "warning"),
])
def test_envoy_reset_uses_the_meshs_proxy_log_level(values, level):
    assert ll.envoy_reset_changes(values) == [ll.LevelChange("level", level)]


# -- ztunnel -----------------------------------------------------------------------------------------


def _query(path: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(path).query, keep_blank_values=True)


def test_ztunnel_gets_one_filter_with_its_own_level_names():
    path = ll.ztunnel_path(ll.parse_levels("access:debug,warning"), reset=False)
    # ztunnel refuses `access:debug` (its targets are `access=debug`) and knows `warn`, not `warning`.
    assert _query(path) == {"level": ["warn,access=debug"]}


def test_ztunnel_critical_is_error_and_listing_is_a_plain_post():
    assert _query(ll.ztunnel_path(ll.parse_levels("critical"), reset=False)) == {"level": ["error"]}
    assert ll.ztunnel_path([], reset=False) == "/logging"


def test_ztunnel_reset_restores_info_from_its_default_filter():
    assert _query(ll.ztunnel_path([], reset=True)) == {"level": ["info"], "reset": [""]}


def test_ztunnel_filter_clauses_are_ones_ztunnel_validates():
    allowed = {"off", "error", "warn", "info", "debug", "trace"}
    for spec in ("trace", "debug", "info", "warning", "warn", "error", "critical", "off", "a::b:debug,info"):
        [value] = _query(ll.ztunnel_path(ll.parse_levels(spec), reset=False))["level"]
        for clause in value.split(","):
            assert clause in allowed or (clause.count("=") == 1 and clause.split("=")[1] in allowed), clause


def test_answers_are_prefixed_with_the_pod_as_istioctl_does():
    assert ll.format_answer("waypoint-1", "default", ENVOY_LISTING, ztunnel=False) == \
        "waypoint-1.default:\n" + ENVOY_LISTING
    assert ll.format_answer("ztunnel-a", "istio-system", "current log level is info\n", ztunnel=True) == \
        "ztunnel-a.istio-system:\ncurrent log level is info\n\n"
