"""Generate docs/reference.md from the Typer app itself, so the reference cannot drift."""

from __future__ import annotations

import click
import typer

HEADER = (
    "# Command reference\n\n"
    "Generated from the CLI by `python -m ambientctl.cli.reference > docs/reference.md`; "
    "a test fails when it is stale.\n"
)


def _walk(command: click.Command, ctx: click.Context):
    yield command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            yield from _walk(sub, click.Context(sub, info_name=name, parent=ctx, terminal_width=100,
                                                max_content_width=100))


def generate() -> str:
    """Markdown with every command's plain help text, in command-tree order."""
    from ambientctl.cli.app import app

    root = typer.main.get_command(app)
    ctx = click.Context(root, info_name="ambientctl", terminal_width=100, max_content_width=100,
                        **root.context_settings)
    parts = [HEADER]
    for command, sub_ctx in _walk(root, ctx):
        path = sub_ctx.command_path
        parts.append(f"\n## `{path}`\n\n```text\n{command.get_help(sub_ctx).rstrip()}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    import sys

    sys.stdout.write(generate())
