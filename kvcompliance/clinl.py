"""Dutch for click, through its public extension points only.

click documents how to change its help output and errors: a command class (``cls=``)
with its own ``context_class``, a context with its own ``formatter_class``, parameter
types of one's own, and running with ``standalone_mode=False`` to show errors oneself.
This module does exactly that; it changes nothing inside click.

- :class:`DutchGroup` / :class:`DutchCommand`: help in Dutch ("Gebruik:", "Opties",
  "Commando's", "Toon deze hulp en stop.") and a Dutch error for an unknown command;
- :class:`Folder`, :class:`File`, :class:`PathOf`, :class:`Number`: parameter types whose
  refusals are Dutch;
- :func:`usage_error_text`: a click usage error as the Dutch line the officer reads.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any, Iterator

import click

from kvcompliance.text import quoted

#: Headings click writes in a help text, in Dutch.
HEADINGS = {"Options": "Opties", "Commands": "Commando's", "Arguments": "Argumenten", "Positional arguments": "Argumenten"}
HELP_TEXT = "Toon deze hulp en stop."


class DutchFormatter(click.HelpFormatter):
    """click's help formatter with Dutch headings."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "Gebruik: " if prefix is None else prefix)

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(HEADINGS.get(name, name)):
            yield


class DutchContext(click.Context):
    formatter_class = DutchFormatter


class DutchCommand(click.Command):
    """A command whose help and parse errors are Dutch."""

    context_class = DutchContext

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does; arguments left over are refused here, in Dutch."""
        allowed, ctx.allow_extra_args = ctx.allow_extra_args, True
        try:
            rest = super().parse_args(ctx, args)
        finally:
            ctx.allow_extra_args = allowed
        if ctx.args and not allowed and not ctx.resilient_parsing:
            raise click.UsageError(f"Te veel argumenten: {' '.join(map(str, ctx.args))}.", ctx)
        return rest


class DutchGroup(click.Group):
    """A group whose commands, help and errors are Dutch."""

    context_class = DutchContext
    command_class = DutchCommand

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_TEXT
        return option

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the program; in standalone mode (as the installed command runs) errors are
        shown in Dutch: 'Fout: ...', the usage line and where to find help."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            ctx = error.ctx
            if ctx is not None:
                click.echo(ctx.get_usage(), err=True)
                click.echo(f"Probeer '{ctx.command_path} --help' voor hulp.\n", err=True)
            click.secho(f"Fout: {usage_error_text(error)}", fg="red", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Afgebroken.", err=True)
            sys.exit(1)
        except click.ClickException as error:
            click.secho(f"Fout: {error.format_message()}", fg="red", err=True)
            sys.exit(error.exit_code)
        sys.exit(result if isinstance(result, int) else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands in the order they were added: the order of the officer's year."""
        return list(self.commands)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else None
        if name is not None and not name.startswith("-") and self.get_command(ctx, name) is None:
            known = ", ".join(sorted(self.list_commands(ctx)))
            raise click.UsageError(f"Onbekend commando {quoted(name)}. Bekend zijn: {known}.", ctx)
        return super().resolve_command(ctx, args)


# ------------------------------------------------------------------ parameter types
def _kind(path: Path) -> str | None:
    """'map', 'bestand', or None when nothing is there (or it cannot be looked at: the
    command that uses the path says why, in Dutch)."""
    try:
        return "map" if path.is_dir() else "bestand" if path.exists() else None
    except OSError:
        return None


class _Place(click.ParamType):
    """A folder or a file (``name``); ``exists``: it must be there already."""

    other = ""
    access = os.R_OK

    def __init__(self, exists: bool = False):
        self.exists = exists

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        kind = _kind(path)
        if self.exists and kind is None:
            self.fail(f"{'de' if self.name == 'map' else 'het'} {self.name} {quoted(str(value))} bestaat niet", param, ctx)
        if kind == self.other:
            self.fail(f"{quoted(str(value))} is een {self.other}, geen {self.name}", param, ctx)
        if self.exists and not os.access(path, self.access):
            self.fail(f"{'de' if self.name == 'map' else 'het'} {self.name} {quoted(str(value))} is niet te lezen (geen leesrechten)",
                      param, ctx)
        return path


class Folder(_Place):
    """A folder; ``exists``: it must be there already (and readable)."""

    name, other, access = "map", "bestand", os.R_OK | os.X_OK


class File(_Place):
    """A file; ``exists``: it must be there already (and readable)."""

    name, other = "bestand", "map"


class PathOf(click.ParamType):
    """A path that may be a file or a folder (the command decides which it needs)."""

    name = "pad"

    def __init__(self, exists: bool = False):
        self.exists = exists

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if self.exists and _kind(path) is None:
            self.fail(f"{quoted(str(value))} bestaat niet", param, ctx)
        return path


class Number(click.ParamType):
    """A whole number (``kind="geheel"``) or a number with decimals between ``low`` and
    ``high``; ``name`` is how the refusal calls it ('jaartal', 'aantal', 'getal')."""

    def __init__(self, low: float, high: float, name: str = "getal", whole: bool = True):
        self.low, self.high, self.name, self.whole = low, high, name, whole

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float | int:
        text = str(value).strip().replace(",", ".")
        try:
            number = int(text) if self.whole else float(text)
        except ValueError:
            self.fail(f"{quoted(str(value))} is geen geldig {self.name}", param, ctx)
        if not self.low <= number <= self.high:
            low, high = (int(x) if float(x).is_integer() else x for x in (self.low, self.high))
            self.fail(f"{quoted(str(value))} ligt niet tussen {low} en {high}", param, ctx)
        return number


# ------------------------------------------------------------------ errors
def usage_error_text(error: click.UsageError) -> str:
    """A usage error as the Dutch line the officer reads (without 'Fout:')."""
    if isinstance(error, click.NoSuchOption):
        hint = f" Bedoelt u {' of '.join(sorted(error.possibilities))}?" if error.possibilities else ""
        return f"Onbekende optie {error.option_name}.{hint}"
    if isinstance(error, click.MissingParameter):
        param = error.param
        what = "Argument" if isinstance(param, click.Argument) else "Optie"
        name = (param.metavar or (param.name or "").upper()) if isinstance(param, click.Argument) else (param.opts[0] if param else "")
        return f"{what} {name} ontbreekt."
    if isinstance(error, click.BadParameter):
        param = error.param
        name = (param.opts[0] if isinstance(param, click.Option) else param.human_readable_name) if param else ""
        return f"Ongeldige waarde voor {name}: {error.message.rstrip('.')}."
    if isinstance(error, click.BadOptionUsage):
        return f"Optie {error.option_name} is niet goed gebruikt (vraagt zij een waarde?)."
    return error.message
