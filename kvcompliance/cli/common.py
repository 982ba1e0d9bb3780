"""What every ``kvcompliance`` command shares: exit codes, the Dutch click settings, the
common options, error handling (:func:`guarded`), progress bars and how the process ends."""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import traceback
from pathlib import Path

import click

from kvcompliance.clinl import DutchCommand, DutchGroup, File, Number
from kvcompliance.text import printable

EXIT_OK = 0
EXIT_NOT_ALL_PROCESSED = 1
EXIT_USAGE = 2
EXIT_CANNOT_RUN = 3
#: An interrupted run ends with 128 + the signal number, as a shell reports it.
EXIT_INTERRUPTED = {signal.SIGINT: 128 + signal.SIGINT, signal.SIGTERM: 128 + signal.SIGTERM}

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
#: Settings every command shares: Dutch metavars and help options.
COMMAND = {"context_settings": CONTEXT, "options_metavar": "[OPTIES]", "cls": DutchCommand}
GROUP = {**COMMAND, "cls": DutchGroup, "subcommand_metavar": "COMMANDO [ARGUMENTEN]..."}


def year_type() -> Number:
    return Number(1990, 2100, "jaartal")


class ClickProgress:
    """Progress bars on stderr (results go to stdout)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bar = None

    def stage(self, label: str, total: int) -> None:
        if not self.enabled or total == 0:
            return
        if not sys.stderr.isatty():  # a log file gets one plain line per stage, not a bar
            click.echo(f"{label}: {total}", err=True)
            return
        self._bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True, width=30)
        self._bar.__enter__()

    def step(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def fail(message: str, code: int = EXIT_CANNOT_RUN) -> None:
    click.secho(f"Fout: {printable(message)}", fg="red", err=True)
    sys.exit(code)


def guarded(command):
    """Turn project errors into a Dutch message and exit code 3; ``--debug`` shows tracebacks."""

    @functools.wraps(command)
    def wrapper(*args, debug: bool = False, **kwargs):
        from kvcompliance.errors import KvError

        logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        try:
            return command(*args, **kwargs)
        except KvError as exc:
            if debug:
                traceback.print_exc()
            fail(str(exc))
        except KeyboardInterrupt as exc:  # Ctrl-C, or kvcompliance.errors.Interrupted (SIGTERM)
            if debug:
                traceback.print_exc()
            signum = getattr(exc, "signum", signal.SIGINT)
            click.secho("Afgebroken.", fg="red", err=True)
            sys.exit(EXIT_INTERRUPTED.get(signum, 128 + signum))
        except Exception as exc:  # noqa: BLE001 - never show a traceback unless asked
            if debug:
                traceback.print_exc()
            fail(
                f"Er ging iets onverwachts mis ({exc.__class__.__name__}). Draai het commando opnieuw met --debug "
                "en stuur de uitvoer naar de beheerder."
            )

    return click.option("--debug", is_flag=True, help="Toon technische details (traceback) bij een fout.")(wrapper)


rules_option = click.option(
    "--regels",
    "rules_file",
    type=File(exists=True),
    help="Eigen regelbestand (TOML) dat de standaardregels aanpast.",
)


settings_option = click.option(
    "--instellingen",
    "settings_file",
    type=File(exists=True),
    help="Instellingenbestand (TOML) met de afzender, het verslagjaar en de gespreksperiode."
    " Standaard: kvcompliance.toml in de huidige map, als dat er is.",
)


def load_settings_for(settings_file: Path | None):
    """The settings of this run, checked before anything else is read."""
    from kvcompliance.settings import load_settings

    return load_settings(settings_file)


dossier_option = click.option(
    "--dossier",
    "dossier_file",
    type=File(),
    metavar="BESTAND",
    help="Het dossier (SQLite-bestand) met alle controles en afspraken over de jaren heen. Standaard: [dossier] pad uit de"
    " instellingen.",
)


def open_dossier_for(dossier_file: Path | None, settings, create: bool = True, announce: bool = True):
    """The checked dossier of this run (``--dossier``, else the settings), or None without one.

    ``announce``: say now that a new dossier was made (the audit says it only once it has
    stored in it; a run that ends before that removes the new file again).
    """
    path = dossier_file or settings.get("dossier", "pad")
    if path is None:
        return None
    from kvcompliance.dossier import open_dossier

    dossier = open_dossier(path, create=create, write=create)
    if dossier.created and announce:
        announce_new(dossier)
    elif dossier.migrated_from is not None:
        click.echo(printable(f"Dossier {dossier.name} bijgewerkt naar de nieuwe indeling; het oude staat in {dossier.backup}."), err=True)
    return dossier


def announce_new(dossier) -> None:
    click.echo(f"Nieuw dossier gemaakt: {printable(dossier.path)}", err=True)


contracts_option = click.option(
    "--contracten",
    "register_file",
    type=File(exists=True),
    help="Contractregister (.xlsx of .csv) met contractnummer, aanbieder_naam, kvk_nummer, sector, contact_email"
    " en eventueel verwacht_aantal_signalen.",
)


def leave(code: object = 0) -> None:
    """End the process with exit ``code`` (as ``sys.exit`` takes it), without tearing the
    interpreter down.

    Once a command is done, every file it wrote is complete and closed, its worker
    processes have ended (:mod:`kvcompliance.parallel` shuts every pool down before it
    returns, also when interrupted) and the output folder's lock is released; freeing
    pandas, pandera and all other modules object by object would only make the officer
    wait some 0.3 seconds longer. Log handlers and both output streams are flushed first.
    """
    if code is None:
        code = EXIT_OK
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to show
            pass
    os._exit(code)


def on_signal(signum: int, frame: object) -> None:
    """SIGINT and SIGTERM stop the run once: the first raises
    :class:`~kvcompliance.errors.Interrupted` where the program is (the ``with`` blocks
    then end the workers, remove the staging folder and release the lock); a second one
    while that cleaning runs is ignored, so the cleaning is never cut short."""
    from kvcompliance.errors import Interrupted

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(signum)

