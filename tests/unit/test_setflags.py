"""istioctl's --set syntax: valid and invalid paths, typed scalars, merge order, parser properties."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ambientctl.errors import InvalidInputError
from ambientctl.render import build_config
from ambientctl.render.setflags import parse_set, parse_value
from ambientctl.render.tree import Index, Key, Select, deep_merge, format_path, get_path, parse_path, set_path

# (--set text, path read back in the merged spec, expected value)
VALID = [
    ("profile=ambient", "profile", "ambient"),
    ("hub=registry.example.com/istio", "hub", "registry.example.com/istio"),
    ("tag=1.31.1", "tag", "1.31.1"),
    ("tag=1.31", "tag", "1.31"),  # a str field keeps the text, not the float
    ("spec.tag=1.30.2", "tag", "1.30.2"),  # `spec.` prefix is optional
    ("revision=canary", "revision", "canary"),
    ("components.cni.enabled=true", "components.cni.enabled", True),
    ("components.ztunnel.enabled=false", "components.ztunnel.enabled", False),
    ("components.ingressGateways[0].enabled=false", "components.ingressGateways[0].enabled", False),
    ("components.ingressGateways[name:istio-ingressgateway].enabled=false",
     "components.ingressGateways[0].enabled", False),
    ("components.egressGateways[name:istio-egressgateway].enabled=true", "components.egressGateways[0].enabled", True),
    ("components.ingressGateways[1].name=extra", "components.ingressGateways[1].name", "extra"),  # append at len
    ("components.pilot.k8s.replicaCount=3", "components.pilot.k8s.replicaCount", 3),
    ("components.pilot.k8s.resources.requests.cpu=250m", "components.pilot.k8s.resources.requests.cpu", "250m"),
    ("components.ingressGateways[0].label.team=edge", "components.ingressGateways[0].label.team", "edge"),
    ("values.pilot.env.PILOT_TRACE_SAMPLING=10", "values.pilot.env.PILOT_TRACE_SAMPLING", 10),
    ("values.pilot.traceSampling=0.5", "values.pilot.traceSampling", 0.5),
    ("values.pilot.env.FLAG=\"10\"", "values.pilot.env.FLAG", "10"),  # quotes keep a string
    ("unvalidatedValues.brand.new.key=x", "unvalidatedValues.brand.new.key", "x"),  # free-form
    ("values.ztunnel.brand.new=x", "values.ztunnel.brand.new", "x"),  # a free-form subtree of Values
    ("values.cni.excludeNamespaces={kube-system,istio-system}", "values.cni.excludeNamespaces",
     ["kube-system", "istio-system"]),
    ("values.pilot.podAnnotations.prometheus\\.io/scrape=true", "values.pilot.podAnnotations.prometheus\\.io/scrape",
     True),
    ("meshConfig.accessLogFile=/dev/stdout", "meshConfig.accessLogFile", "/dev/stdout"),
    ("meshConfig.enableTracing=true", "meshConfig.enableTracing", True),
    ("meshConfig.defaultConfig.proxyMetadata.X=1", "meshConfig.defaultConfig.proxyMetadata.X", 1),
    ("values.global.hub=a=b", "values.global.hub", "a=b"),  # only the first = splits
]

# (--set text, words the one-line error must contain)
INVALID = [
    # istioctl 1.31 decodes values.* into its Values message: unknown keys are errors, with the nearest ones.
    ("values.brand.new.key=x", ["values has no field 'brand'", "unvalidatedValues"]),
    ("values.pilot.resourcs.requests.cpu=1", ["values.pilot has no field 'resourcs'", "values.pilot.resources"]),
    ("components.cni.enabled", ["no '='", "path=value"]),
    ("=true", ["path before '=' is empty"]),
    ("components.cnii.enabled=true", ["components.cnii.enabled", "no field 'cnii'", "did you mean 'components.cni'"]),
    ("component.cni.enabled=true", ["no field 'component'", "did you mean 'components'"]),
    ("components.cni.enable=true", ["components.cni has no field 'enable'", "enabled"]),
    ("meshConfig.accessLogFil=/dev/stdout", ["meshConfig has no field 'accessLogFil'", "accessLogFile"]),
    ("components.ingressGateways[x].enabled=false", ["bad list selector [x]", "[key:value]"]),
    ("components.ingressGateways[0.enabled=false", ["unbalanced '['"]),
    ("components.ingressGateways]0[.enabled=false", ["unbalanced ']'"]),
    ("components.cni[0].enabled=true", ["components.cni is not a list"]),
    ("components.cni.enabled=yes", ["takes true or false", "yes"]),
    ("components.pilot.k8s.replicaCount=two", ["whole number"]),
    ("components.cni=true", ["is a map, not a single value"]),
    ("components.ingressGateways=off", ["is a list, not a single value"]),
    ("tag={a,b}", ["single value"]),
    ("a..b=1", ["bad key"]),
    ("spec=1", ["'spec' alone"]),
    ("profile.x=1", ["profile is a string", "no field 'x'"]),
]


@pytest.mark.parametrize(("text", "path", "expected"), VALID, ids=[t for t, _, _ in VALID])
def test_valid_set_lands_in_the_merged_spec(text: str, path: str, expected: object) -> None:
    config, _, _ = build_config("default", set_values=[text])
    assert get_path(config["spec"], parse_path(path)) == expected


@pytest.mark.parametrize(("text", "words"), INVALID, ids=[t for t, _ in INVALID])
def test_invalid_set_is_one_line_invalid_input(text: str, words: list[str]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build_config("default", set_values=[text])
    line = caught.value.one_line()
    assert "\n" not in line
    for word in words:
        assert word in line, line


def test_select_of_missing_item_names_the_items_there() -> None:
    with pytest.raises(InvalidInputError) as caught:
        build_config("default", set_values=["components.ingressGateways[name:nope].enabled=true"])
    assert "no item with name=nope" in caught.value.one_line()
    assert "items there: istio-ingressgateway" in caught.value.one_line()


def test_index_past_the_end_is_rejected_with_the_range() -> None:
    with pytest.raises(InvalidInputError) as caught:
        build_config("default", set_values=["components.ingressGateways[5].enabled=true"])
    assert "index 5 is out of range (components.ingressGateways has 1 item(s))" in caught.value.one_line()


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("true", True), ("false", False), ("True", True), ("10", 10), ("-3", -3), ("0", 0), ("0.5", 0.5),
        ("1e3", 1000.0), ("010", "010"), ("1.31.0", "1.31.0"), ("\"true\"", "true"), ("'10'", "10"),
        ("", ""), ("abc", "abc"), ("{}", []), ("{1,x}", [1, "x"]), ("nan", "nan"), ("inf", "inf"),
    ],
)
def test_typed_scalars_like_istioctl(raw: str, value: object) -> None:
    assert parse_value(raw) == value
    assert type(parse_value(raw)) is type(value)


def test_path_grammar() -> None:
    assert parse_path("components.ingressGateways[name:istio-ingressgateway].k8s") == [
        Key("components"), Key("ingressGateways"), Select("name", "istio-ingressgateway"), Key("k8s"),
    ]
    assert parse_path("a[0][1].b") == [Key("a"), Index(0), Index(1), Key("b")]
    assert parse_path("values.x.a\\.b") == [Key("values"), Key("x"), Key("a.b")]
    assert format_path(parse_path("values.x.a\\.b[2]")) == "values.x.a\\.b[2]"


def test_merge_order_profile_then_files_then_set(tmp_path) -> None:
    first = tmp_path / "first.yaml"
    second = tmp_path / "second.yaml"
    first.write_text(textwrap.dedent("""\
        apiVersion: install.istio.io/v1alpha1
        kind: IstioOperator
        spec:
          tag: from-first
          values:
            pilot:
              env: {A: first, B: first}
          components:
            ingressGateways:
            - name: custom-gateway
              enabled: true
        """))
    second.write_text(textwrap.dedent("""\
        apiVersion: install.istio.io/v1alpha1
        kind: IstioOperator
        spec:
          tag: from-second
          values:
            pilot:
              env: {B: second}
        """))
    config, profile, _ = build_config(
        "ambient", files=[str(first), str(second)], set_values=["tag=from-set", "values.pilot.env.C=set"]
    )
    spec = config["spec"]
    assert profile == "ambient"
    assert spec["tag"] == "from-set"  # --set beats files
    # maps merge key by key across profile < first < second < --set
    assert spec["values"]["pilot"]["env"] == {"PILOT_ENABLE_AMBIENT": "true", "A": "first", "B": "second", "C": "set"}
    # lists are replaced, as istioctl does: the profile's ingress gateway is gone
    assert [g["name"] for g in spec["components"]["ingressGateways"]] == ["custom-gateway"]


def test_profile_from_file_then_set_wins(tmp_path) -> None:
    overlay = tmp_path / "o.yaml"
    overlay.write_text("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  profile: demo\n")
    assert build_config(None, files=[str(overlay)])[1] == "demo"
    assert build_config(None, files=[str(overlay)], set_values=["profile=minimal"])[1] == "minimal"
    assert build_config("ambient")[1] == "ambient"


def test_deep_merge_does_not_mutate_inputs() -> None:
    base = {"a": {"b": [1]}, "c": 1}
    overlay = {"a": {"d": 2}}
    merged = deep_merge(base, overlay)
    merged["a"]["b"].append(9)
    assert base == {"a": {"b": [1]}, "c": 1}
    assert merged == {"a": {"b": [1, 9], "d": 2}, "c": 1}


# ------------------------------------------------------------------------------------------ properties

KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-]{0,8}", fullmatch=True)
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-10**12, max_value=10**12),
    st.from_regex(r"[a-z][a-z0-9\-/]{0,12}", fullmatch=True).filter(
        lambda s: s.lower() not in ("true", "false", "nan", "inf")
    ),
)


def _raw(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_parser_only_ever_raises_invalid_input(text: str) -> None:
    try:
        flag = parse_set(text)
    except InvalidInputError as exc:
        assert "\n" not in exc.one_line()
        return
    spec: dict = {"components": {"ingressGateways": [{"name": "x"}], "egressGateways": []}}
    try:
        set_path(spec, flag.path, flag.value)
    except InvalidInputError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(KEYS, min_size=1, max_size=4), SCALARS)
def test_set_then_get_round_trips_under_values(keys: list[str], value: object) -> None:
    flag = parse_set(f"unvalidatedValues.{'.'.join(keys)}={_raw(value)}")
    spec: dict = {}
    set_path(spec, flag.path, flag.value)
    assert get_path(spec, flag.path) == value
    assert format_path(parse_path(format_path(flag.path))) == format_path(flag.path)
