"""`ambientctl x ...`: experimental commands, as istioctl's `x` group.

Other command modules attach their commands to `x_app`.
"""

from __future__ import annotations

import typer

x_app = typer.Typer(help="Experimental commands (istioctl's `x`).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(x_app, name="x")
