"""The ``kvcompliance`` command: a thin Dutch skin over the library.

Only this package prints, talks to click or chooses exit codes; one module per command
(:mod:`.auditing`, :mod:`.forms`, :mod:`.sending`, :mod:`.dossiers`, :mod:`.browser`), what they share in
:mod:`.common`. Heavy imports (pandas, pandera, xlsxwriter) happen inside the commands
so that ``--help`` stays fast.

Exit codes of ``audit``: 0 every file audited; 1 the audit ran but some files were not
processed; 2 usage error; 3 the audit could not run; 130 / 143 stopped by SIGINT (Ctrl-C) /
SIGTERM. ``verzend``: 0 every provider got its draft or e-mail; 1 some did not (each
listed with the reason); 2 usage error; 3 it could not run, or stopped (a lost connection).
Every text that comes from outside (file, folder and provider names, messages quoting
them) is printed through :func:`~kvcompliance.text.printable`.
"""

from __future__ import annotations

import signal

import click

from kvcompliance import __version__
from kvcompliance.cli.auditing import audit
from kvcompliance.cli.browser import web
from kvcompliance.cli.common import EXIT_OK, GROUP, leave, on_signal
from kvcompliance.cli.dossiers import afspraken, dossier
from kvcompliance.cli.forms import init, regels, template
from kvcompliance.cli.sending import PASSWORD_VARIABLE, verzend

__all__ = ["PASSWORD_VARIABLE", "leave", "main", "run"]


@click.group(**GROUP)
@click.version_option(__version__, "--versie", "-V", prog_name="kvcompliance", message="%(prog)s %(version)s",
                      help="Toon de versie en stop.")
def main() -> None:
    """Controleer de voorwaarden over kindermishandeling in contracten en subsidies.

    \b
    Werkwijze:
      1. kvcompliance init                         schrijf kvcompliance.toml en vul afzender en data in
      2. kvcompliance template -o uitvraag.xlsx    maak het uitvraagformulier
      3. stuur het formulier naar elke aanbieder en verzamel de ingevulde bestanden in één map
      4. kvcompliance audit opgaven/ -o uitvoer/   controleer alle opgaven; begin bij de Bellijst
      5. kvcompliance verzend uitvoer/             concepten met elk werkboek, om na te lezen en te versturen
      6. kvcompliance afspraken uitvoer/accountgesprek/
                                                   bewaar na de gesprekken de afspraken in het dossier
    """


for command in (init, template, audit, verzend, afspraken, dossier, regels, web):
    main.add_command(command)


def run() -> None:
    """The ``kvcompliance`` program: :func:`main`, then :func:`leave`."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    try:
        main()
    except SystemExit as exc:
        leave(exc.code)
    leave(EXIT_OK)
