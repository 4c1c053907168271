"""The package layout keeps its promises: no import cycles inside ambientctl/, and no layer imports one above it.

Imports are read statically (ast), so the test costs milliseconds and sees
every module, including the command modules that load only when their command
runs. Function-level imports count: ambientctl imports lazily on purpose (so
`--help` stays fast), and a lazy import that closes a cycle is still a cycle —
the two modules can no longer be understood, tested or moved apart, and the
first import order that differs from today's turns it into an ImportError or a
half-initialised module. Imports under `if TYPE_CHECKING:` do not count: they
never run. `import a.b.c` and `from a.b import c` are edges to the module they
name (a package's __init__ is the module `a.b`), not to its parents.

The rules (docs/architecture.md says the same):

* rule modules (FOUNDATION: errors, names, durations, labels, ownership,
  gateways, workloads, versions, lazyre, yamlout, output, meshparts) import only each
  other and the pure kind table `kube.resources`;
* `kube/` imports only `errors` (it is built from a kubeconfig path, a context,
  a namespace and a timeout, never from the CLI's options);
* `render/` is pure: rule modules and `kube.resources` only, no client;
* the domain packages import rule modules and `kube/`, plus: `install/` may
  use `render/`, `analyze/` may use `mesh/`; no two others know each other;
* `context.py` imports rule modules and `kube/`;
* only `cli/` (and `__main__`) import `cli/` and `context.py`; `cli/` may
  import anything;
* `kubernetes` and `urllib3` are imported at module level only by
  `kube/client.py` and `kube/portforward.py`, which the CLI loads on first use;
  `cryptography` by no module (only inside the functions that decode).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ambientctl"

FOUNDATION = {"errors", "names", "durations", "labels", "ownership", "gateways", "workloads", "versions", "lazyre",
              "yamlout", "output", "meshparts"}
PURE_KUBE = {"kube.resources"}
DOMAIN = {"mesh", "proxy", "waypoint", "samples", "install", "analyze", "render", "dashboard", "bugreport",
          "describe", "lookup", "revision"}
# What each top-level part may import besides itself (None: anything). A name is a top-level module
# or package of ambientctl ("kube"), or one module of it ("kube.resources").
ALLOWED: dict[str, set[str] | None] = {
    **{name: FOUNDATION | PURE_KUBE for name in FOUNDATION},
    "kube": {"errors"},
    "render": FOUNDATION | PURE_KUBE,
    "mesh": FOUNDATION | {"kube"},
    "proxy": FOUNDATION | {"kube"},
    "waypoint": FOUNDATION | {"kube"},
    "samples": FOUNDATION | {"kube"},
    "install": FOUNDATION | {"kube", "render"},
    "analyze": FOUNDATION | {"kube", "mesh"},
    "dashboard": FOUNDATION | {"kube"},
    "istiod": FOUNDATION | {"kube", "proxy"},
    "validate": FOUNDATION,  # proxy: istioctl's table layout (proxy.envoy.tabwriter)
    "lookup": FOUNDATION | {"kube"},  # the names shell completion offers
    # revision tags, revision lookups, versions per revision, upgrade (which reuses install's plan and diff)
    "revision": FOUNDATION | {"kube", "install", "render", "mesh"},
    # bug-report collects every other part's view of the mesh (dumps, certificates, analyze)
    "bugreport": FOUNDATION | {"kube", "proxy", "analyze"},
    # describe puts the mesh model and the pod's ztunnel side by side
    "describe": FOUNDATION | {"kube", "mesh", "proxy"},
    "context": FOUNDATION | {"kube"},
    "cli": None,
    "__main__": {"cli"},
    "ambientctl": FOUNDATION,  # the package's own __init__
}
# Slow imports, and the only modules that may pay for them at import time (everyone else imports them lazily).
HEAVY_LIBRARIES = {
    "kubernetes": {"ambientctl.kube.client", "ambientctl.kube.portforward"},
    "urllib3": {"ambientctl.kube.client", "ambientctl.kube.portforward"},
    "cryptography": set(),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=None)
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST, *, module_level_only: bool = False):
    """(import node, at module level?) for every import that runs, i.e. not under `if TYPE_CHECKING:`."""
    def walk(node: ast.AST, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)) and not (module_level_only and in_function):
                yield child, not in_function
            yield from walk(child, nested)
    yield from walk(tree, False)


def _targets(name: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The ambientctl modules an import statement loads (absolute names)."""
    known = modules()
    if isinstance(node, ast.Import):
        candidates = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([base] if base else []))
        candidates = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    found = []
    for candidate in candidates:
        while candidate and candidate not in known:
            candidate = candidate.rpartition(".")[0]
        if candidate and candidate != name:
            found.append(candidate)
    return found


@lru_cache(maxsize=None)
def graph() -> dict[str, set[str]]:
    """module -> ambientctl modules it imports (function-level imports included)."""
    edges: dict[str, set[str]] = {}
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges[name] = {t for node, _ in _imports(tree) for t in _targets(name, path, node)}
    return edges


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def _part(module: str) -> str:
    """`ambientctl.kube.client` -> `kube`; `ambientctl` -> `ambientctl`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ambientctl"


def _allowed(importer: str, target: str) -> bool:
    part, target_part = _part(importer), _part(target)
    if part == target_part:
        return True
    allowed = ALLOWED.get(part, set())
    if allowed is None:
        return True
    short = target.removeprefix("ambientctl.")
    return target_part in allowed or short in allowed


# ------------------------------------------------------------------ the finder itself


def test_find_cycles_sees_a_cycle_and_only_cycles():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []


def test_function_level_and_relative_imports_are_edges_but_type_checking_ones_are_not(tmp_path):
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ambientctl import cli\n"
              "def f():\n    from ambientctl.kube import client\n    from . import errors\n")
    tree = ast.parse(source)
    found = {t for node, _ in _imports(tree) for t in _targets("ambientctl.names", PACKAGE / "names.py", node)}
    assert found == {"ambientctl.kube.client", "ambientctl.errors"}


def test_the_rules_refuse_upward_imports():
    assert not _allowed("ambientctl.kube.client", "ambientctl.context")
    assert not _allowed("ambientctl.render.engine", "ambientctl.kube.client")
    assert not _allowed("ambientctl.waypoint.cluster", "ambientctl.cli.options")
    assert _allowed("ambientctl.render.engine", "ambientctl.kube.resources")
    assert _allowed("ambientctl.cli.install", "ambientctl.install.installer")


def test_every_part_of_the_tree_has_a_rule():
    assert {_part(m) for m in modules()} <= set(ALLOWED), "add the new package to ALLOWED (and docs/architecture.md)"


# ------------------------------------------------------------------ the tree


def test_no_import_cycles_inside_ambientctl():
    cycles = find_cycles(graph())
    assert cycles == [], "import cycles (function-level imports included): " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_layer_imports_one_above_it():
    wrong = sorted(f"{importer} imports {target}" for importer, targets in graph().items() for target in targets
                   if not _allowed(importer, target))
    assert wrong == []


@pytest.mark.parametrize("library", sorted(HEAVY_LIBRARIES))
def test_heavy_libraries_are_imported_at_module_level_only_where_allowed(library):
    offenders = []
    for name, path in modules().items():
        for node, at_module_level in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if at_module_level and not getattr(node, "level", 0) and any(
                    n == library or n.startswith(library + ".") for n in names):
                offenders.append(name)
    assert set(offenders) <= HEAVY_LIBRARIES[library], offenders
