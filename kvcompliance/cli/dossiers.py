"""``kvcompliance afspraken`` and ``kvcompliance dossier``: the dossier over the years."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kvcompliance.cli.common import (COMMAND, GROUP, EXIT_OK, EXIT_NOT_ALL_PROCESSED, EXIT_USAGE, fail, guarded, settings_option, dossier_option, load_settings_for, open_dossier_for)
from kvcompliance.clinl import Folder, PathOf
from kvcompliance.text import printable


@click.command(**COMMAND)
@click.argument("folder", type=PathOf(exists=True), metavar="MAP")
@dossier_option
@settings_option
@guarded
def afspraken(folder: Path, dossier_file: Path | None, settings_file: Path | None) -> None:
    """Bewaar de afspraken uit de gesprekken in het dossier.

    Leest in elk werkboek voor het accountgesprek in MAP de kolommen Afspraak, Wie en
    Termijn van de gespreksagenda, zoals u ze tijdens of na het gesprek invulde, en bewaart
    ze per aanbieder en regel in het dossier. De controle van volgend jaar toont ze in het
    tabblad Historie, en zet elke afspraak die nog niet is gerealiseerd op de agenda. Een
    werkboek dat opnieuw wordt ingelezen, vervangt zijn eerder bewaarde afspraken.
    In plaats van een map kan ook één werkboek worden opgegeven.

    \b
    Voorbeeld:
      kvcompliance afspraken uitvoer-2024/accountgesprek/ --dossier dossier.sqlite
      kvcompliance afspraken "uitvoer-2024/accountgesprek/Stichting Alfa.xlsx" --dossier dossier.sqlite
    """
    from kvcompliance.catalogue import load_catalogue
    from kvcompliance.dossier.agreements import read_folder, store_agreements, summary
    from kvcompliance.outputs import output_folders_around, settled_outputs

    settings = load_settings_for(settings_file)
    dossier = open_dossier_for(dossier_file, settings, announce=False)
    if dossier is None:
        fail("Geef het dossier op met --dossier BESTAND (of met [dossier] pad in de instellingen).", EXIT_USAGE)
    if dossier.new_file:  # a mistyped path would split the agreements from the audits they belong to
        click.secho(
            f"Let op: {printable(dossier.path)} bestond nog niet en is nu als nieuw dossier gemaakt. Staan de controles in"
            " een ander dossier, geef dat dan op met --dossier; afspraken horen in het dossier van hun controles.",
            fg="yellow", err=True)
    # no audit swaps its files in while the workbooks are read; a run that died in its swap is put back first
    with settled_outputs(output_folders_around(folder), "kvcompliance afspraken"):
        found = read_folder(folder, load_catalogue())
    stored = store_agreements(dossier, found.read)
    lines, notes, problems = summary(folder, found, stored, dossier.path)
    for note in notes:
        click.secho(printable(note), fg="yellow", err=True)
    for line in lines:
        click.echo(printable(line))
    for problem in problems:
        click.secho(printable(problem), fg="red", err=True)
    sys.exit(EXIT_NOT_ALL_PROCESSED if found.unreadable else EXIT_OK)


@click.group(**GROUP)
def dossier() -> None:
    """Het dossier: alle controles en afspraken over de jaren heen.

    \b
    Voorbeeld:
      kvcompliance dossier export --csv dossier-csv/ --dossier dossier.sqlite
    """


@dossier.command("export", **COMMAND)
@click.option(
    "--csv",
    "csv_dir",
    type=Folder(),
    required=True,
    metavar="MAP",
    help="Map voor de CSV-bestanden: één per tabel, ;-gescheiden, UTF-8 (opent goed in Nederlandse Excel).",
)
@dossier_option
@settings_option
@guarded
def dossier_export(csv_dir: Path, dossier_file: Path | None, settings_file: Path | None) -> None:
    """Schrijf elke tabel van het dossier als CSV-bestand, voor Excel of een BI-programma.

    De tabellen en kolommen staan beschreven in docs/DOSSIER.md.

    \b
    Voorbeeld:
      kvcompliance dossier export --csv dossier-csv/ --dossier dossier.sqlite
    """
    from kvcompliance.dossier.export import export_csv
    from kvcompliance.values import plural

    settings = load_settings_for(settings_file)
    found = open_dossier_for(dossier_file, settings, create=False)
    if found is None:
        fail("Geef het dossier op met --dossier BESTAND (of met [dossier] pad in de instellingen).", EXIT_USAGE)
    for table in export_csv(found, csv_dir):
        click.echo(f"{printable(table.path)} ({plural(table.rows, 'rij', 'rijen')})")
