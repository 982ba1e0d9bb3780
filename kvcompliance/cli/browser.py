"""``kvcompliance web``: the audit in the browser, on this computer (see :mod:`kvcompliance.web`)."""

from __future__ import annotations

from pathlib import Path

import click

from kvcompliance.cli.common import COMMAND, guarded
from kvcompliance.clinl import Folder, Number
from kvcompliance.text import printable


@click.command(**COMMAND)
@click.option(
    "--werkmap",
    "root",
    type=Folder(),
    help="Map voor de controles, met per controle de opgaven en de uitvoer. Standaard: kvcompliance-web in uw"
    " map Documenten.",
)
@click.option("--poort", type=Number(0, 65535, "poortnummer"), default=0, metavar="N",
              help="Poort op 127.0.0.1. Standaard: een vrije poort.")
@click.option("--geen-browser", is_flag=True, help="Open de browser niet; het adres staat in dit venster.")
@guarded
def web(root: Path | None, poort: int, geen_browser: bool) -> None:
    """Open kvcompliance in de browser, op deze computer.

    Alles wat de commando's doen, met een klik: de controle aanmaken, opgaven erin slepen,
    controleren, de bellijst en de werkboeken bekijken en downloaden. Alleen te bereiken
    vanaf deze computer, met het adres dat hieronder verschijnt. Stop met Ctrl+C.

    \b
    Voorbeeld:
      kvcompliance web
      kvcompliance web --werkmap D:\\controles --poort 8765
    """
    from kvcompliance.web.server import prepare

    server = prepare(root, poort)
    click.echo(f"kvcompliance draait op {server.url}")
    click.echo(f"Werkmap: {printable(server.workspace.root)}")
    click.echo("Stop met Ctrl+C.", err=True)
    if not geen_browser:
        import webbrowser

        if not webbrowser.open(server.url):
            click.secho("Er is geen browser gevonden: open het adres hierboven zelf.", fg="yellow", err=True)
    server.serve()
    click.echo("kvcompliance web is gestopt.", err=True)
