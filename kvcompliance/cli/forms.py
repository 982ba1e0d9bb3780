"""``kvcompliance template``, ``regels`` and ``init``: the form, the rules and the settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from kvcompliance.cli.common import (COMMAND, EXIT_USAGE, ClickProgress, fail, guarded, rules_option, settings_option, load_settings_for)
from kvcompliance.clinl import File, PathOf
from kvcompliance.text import printable


@click.command(**COMMAND)
@click.option(
    "-o",
    "--uitvoer",
    "output",
    type=PathOf(),
    help="Het bestand voor het uitvraagformulier (standaard uitvraag.xlsx); met --contracten de map voor de "
    "formulieren (standaard formulieren/).",
)
@click.option(
    "--contracten",
    "register_file",
    type=File(exists=True),
    help="Contractregister (.xlsx of .csv): schrijf per contract een formulier waarin naam, KvK-nummer, "
    "contractnummer en sector al zijn ingevuld en vergrendeld.",
)
@settings_option
@guarded
def template(output: Path | None, register_file: Path | None, settings_file: Path | None) -> None:
    """Maak het uitvraagformulier dat aanbieders invullen.

    Met --contracten krijgt elke aanbieder uit het contractregister een eigen formulier,
    met naam, KvK-nummer, contractnummer en sector al ingevuld (grijs en vergrendeld).

    \b
    Voorbeeld:
      kvcompliance template -o uitvraag-2025.xlsx
      kvcompliance template --contracten contracten.xlsx -o formulieren/
    """
    from kvcompliance.catalogue import load_catalogue

    letterhead = load_settings_for(settings_file).letterhead()
    catalogue = load_catalogue()
    if register_file is None:
        from kvcompliance.template import write_template

        output = output or Path("uitvraag.xlsx")
        if output.is_dir():
            fail(f"{output} is een map; geef een bestandsnaam op, bijvoorbeeld -o {output / 'uitvraag.xlsx'}.", EXIT_USAGE)
        write_template(output, catalogue, letterhead=letterhead)
        click.echo(f"Uitvraagformulier geschreven: {printable(output)}")
        return
    from kvcompliance.register import load_register
    from kvcompliance.parallel import default_jobs
    from kvcompliance.prefill import write_prefilled_forms

    register = load_register(register_file, catalogue)
    written = write_prefilled_forms(
        register, catalogue, output or Path("formulieren"), letterhead, progress=ClickProgress(), jobs=default_jobs()
    )
    folder = output or Path("formulieren")
    click.echo(
        f"{len(written)} vooraf ingevulde {'formulier' if len(written) == 1 else 'formulieren'} geschreven in "
        f"{printable(folder)} (één per contract uit {printable(register_file.name)})."
    )


@click.command(**COMMAND)
@rules_option
@settings_option
@guarded
def regels(rules_file: Path | None, settings_file: Path | None) -> None:
    """Toon de regels en normen die de controle toepast.

    \b
    Voorbeeld:
      kvcompliance regels --regels onze-regio.toml
    """
    from kvcompliance.catalogue import load_catalogue
    from kvcompliance.explain import rules_table

    load_settings_for(settings_file)  # a broken settings file is said here too
    catalogue = load_catalogue(str(rules_file) if rules_file else None)
    table = rules_table(catalogue, width=max(80, min(160, shutil.get_terminal_size((120, 40)).columns)))
    click.echo("\n".join(printable(line) for line in table.splitlines()))  # a rules file's texts, line by line
    for warning in catalogue.warnings:
        click.secho(f"Let op: {printable(warning)}", fg="yellow", err=True)


@click.command(**COMMAND, short_help="Schrijf een voorbeeld van het instellingenbestand.")
@click.option(
    "-o",
    "--uitvoer",
    "output",
    type=File(),
    default=Path("kvcompliance.toml"),
    help="Het instellingenbestand dat wordt geschreven (standaard: kvcompliance.toml).",
)
@guarded
def init(output: Path) -> None:
    """Schrijf een voorbeeld van het instellingenbestand, met uitleg bij elke sleutel.

    Pas daarna de afzender, het verslagjaar, de uiterste datum en de gespreksperiode aan.
    Een bestaand bestand wordt niet overschreven.

    \b
    Voorbeeld:
      kvcompliance init
      kvcompliance init -o regio-eemvallei.toml
    """
    from kvcompliance.settings import example_text

    if output.exists():
        fail(f"{printable(output)} bestaat al; het wordt niet overschreven. Kies een andere naam met -o.", EXIT_USAGE)
    try:
        with output.open("x", encoding="utf-8") as handle:
            handle.write(example_text())
    except OSError as exc:
        from kvcompliance.errors import os_reason

        fail(f"{printable(output)} kan niet worden geschreven: {os_reason(exc)}.")
    click.echo(f"Voorbeeld van de instellingen geschreven: {printable(output)}. Pas de waarden aan voordat u het formulier maakt.")
