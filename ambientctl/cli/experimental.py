"""`ambientctl x ...`: experimental commands, as istioctl's `x` group.

Other command modules attach their commands to `x_app`.
"""

from __future__ import annotations

import click
import typer
from typer.core import TyperGroup


class _AlphabeticalGroup(TyperGroup):
    """Lists commands by name: several modules attach here, in whatever order they load."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(super().list_commands(ctx))


x_app = typer.Typer(cls=_AlphabeticalGroup, help="Experimental commands (istioctl's `x`).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(x_app, name="x")
