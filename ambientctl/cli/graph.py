"""`ambientctl x graph`: the mesh as a tree in the terminal, or Mermaid/Graphviz text for docs."""

from __future__ import annotations

from enum import Enum

import typer

from ambientctl.cli.common import cli_context
from ambientctl.output import print_document, write_stdout


class GraphFormat(str, Enum):
    tree = "tree"
    mermaid = "mermaid"
    dot = "dot"
    json = "json"
    yaml = "yaml"


def graph(
    ctx: typer.Context,
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A",
                                        help="Every namespace in the mesh (in ambient, or with waypoints)."),
    output: GraphFormat = typer.Option(GraphFormat.tree, "--output", "-o", help="tree, mermaid, dot, json or yaml."),
) -> None:
    """Namespaces, enrolled workloads, waypoints, and which Services use which waypoint.

    \b
    Examples:
      ambientctl x graph -n default
      ambientctl x graph -A -o mermaid > mesh.mmd
      ambientctl x graph -A -o dot | dot -Tsvg > mesh.svg
    """
    from ambientctl.mesh import graph as gr
    from ambientctl.mesh.load import load_cluster

    cli = cli_context(ctx)
    state = load_cluster(cli.kube, None if all_namespaces else cli.namespace, cli.istio_namespace)
    nodes = gr.build(state, all_namespaces)
    if output == GraphFormat.tree:
        if cli.out.is_terminal:
            cli.out.print(gr.tree(nodes))
        else:
            write_stdout(gr.tree_text(nodes))
    elif output == GraphFormat.mermaid:
        write_stdout(gr.mermaid(nodes))
    elif output == GraphFormat.dot:
        write_stdout(gr.dot(nodes))
    else:
        print_document(gr.as_document(nodes), output.value)


def register(root: typer.Typer) -> None:
    from ambientctl.cli.experimental import x_app

    x_app.command("graph")(graph)
