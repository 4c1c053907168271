"""istioctl's short names: subcommand aliases (`pc s`, `zc w`) and hidden root aliases (`pc`, `zc`)."""

# No `from __future__ import annotations` here: typer would eval every annotation string at every start.
import click
import typer
from typer.core import TyperGroup


class AliasedGroup(TyperGroup):
    """A command group that also answers to istioctl's short names (`s`, `secrets`, ...).

    Aliases are resolved by name here instead of being registered as extra
    commands: typer builds every registered command on every invocation, so
    each alias would slow down all of ambientctl.
    """

    aliases: dict[str, str] = {}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return (command.name if command else name), command, rest


class GroupAlias(TyperGroup):
    """A hidden root-level alias (`pc` for `proxy-config`) that borrows the real group's commands."""

    target = ""

    def _target(self, ctx: click.Context) -> click.Group:
        parent = ctx.parent or ctx
        group = parent.command.get_command(parent, self.target) if isinstance(parent.command, click.Group) else None
        assert isinstance(group, click.Group), f"{self.target} is not registered"
        return group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._target(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._target(ctx).get_command(ctx, cmd_name)


def alias_group(target: str, help_text: str) -> typer.Typer:
    """A Typer for a hidden group alias of `target`."""
    cls = type(f"{target.title().replace('-', '')}Alias", (GroupAlias,), {"target": target})
    return typer.Typer(cls=cls, help=help_text, no_args_is_help=True)
