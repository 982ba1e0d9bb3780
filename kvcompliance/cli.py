"""The ``kvcompliance`` command: a thin Dutch skin over the library.

Only this module prints, talks to click or chooses exit codes. Heavy imports (pandas,
pandera, xlsxwriter) happen inside the commands so that ``--help`` stays fast.

Exit codes: 0 every file audited; 1 the audit ran but some files were not processed;
2 usage error; 3 the audit could not run.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import sys
import traceback
from pathlib import Path

import click

from kvcompliance import __version__, clinl

clinl.install()

EXIT_OK = 0
EXIT_NOT_ALL_PROCESSED = 1
EXIT_USAGE = 2
EXIT_CANNOT_RUN = 3

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
#: Settings every command shares: Dutch metavars and help options.
COMMAND = {"context_settings": CONTEXT, "options_metavar": "[OPTIES]"}


def year_type() -> click.IntRange:
    kind = click.IntRange(1990, 2100)
    kind.name = "jaartal"
    return kind


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


def _fail(message: str, code: int = EXIT_CANNOT_RUN) -> None:
    click.secho(f"Fout: {message}", fg="red", err=True)
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
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("Afgebroken.")
        except Exception as exc:  # noqa: BLE001 - never show a traceback unless asked
            if debug:
                traceback.print_exc()
            _fail(
                f"Er ging iets onverwachts mis ({exc.__class__.__name__}). Draai het commando opnieuw met --debug "
                "en stuur de uitvoer naar de beheerder."
            )

    return click.option("--debug", is_flag=True, help="Toon technische details (traceback) bij een fout.")(wrapper)


rules_option = click.option(
    "--regels",
    "rules_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Eigen regelbestand (TOML) dat de standaardregels aanpast.",
)


settings_option = click.option(
    "--instellingen",
    "settings_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
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
    type=click.Path(path_type=Path),  # a folder is refused by open_dossier, in Dutch
    metavar="BESTAND",
    help="Het dossier (SQLite-bestand) met alle controles en afspraken over de jaren heen. Standaard: [dossier] pad uit de"
    " instellingen.",
)


def open_dossier_for(dossier_file: Path | None, settings, create: bool = True):
    """The checked dossier of this run (``--dossier``, else the settings), or None without one."""
    path = dossier_file or settings.get("dossier", "pad")
    if path is None:
        return None
    from kvcompliance.dossier import open_dossier

    dossier = open_dossier(path, create=create, write=create)
    if dossier.created:
        click.echo(f"Nieuw dossier gemaakt: {dossier.path}", err=True)
    elif dossier.migrated_from is not None:
        click.echo(f"Dossier {dossier.name} bijgewerkt naar de nieuwe indeling; het oude staat in {dossier.backup}.", err=True)
    return dossier


contracts_option = click.option(
    "--contracten",
    "register_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Contractregister (.xlsx of .csv) met contractnummer, aanbieder_naam, kvk_nummer, sector, contact_email"
    " en eventueel verwacht_aantal_signalen.",
)


def leave(code: object = 0) -> None:
    """End the process with exit ``code`` (as ``sys.exit`` takes it), without tearing the
    interpreter down.

    Once a command is done, every file it wrote is complete and closed; freeing pandas,
    pandera and all other modules object by object would only make the officer wait some
    0.3 seconds longer. Log handlers and both output streams are flushed first.
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


def run() -> None:
    """The ``kvcompliance`` program: :func:`main`, then :func:`leave`."""
    try:
        main()
    except SystemExit as exc:
        leave(exc.code)
    leave(EXIT_OK)


@click.group(**COMMAND, subcommand_metavar="COMMANDO [ARGUMENTEN]...")
@click.version_option(__version__, "--versie", "-V", prog_name="kvcompliance", message="%(prog)s %(version)s")
def main() -> None:
    """Controleer de voorwaarden over kindermishandeling in contracten en subsidies.

    \b
    Werkwijze:
      1. kvcompliance template -o uitvraag.xlsx    maak het uitvraagformulier
      2. stuur het formulier naar elke aanbieder en verzamel de ingevulde bestanden in één map
      3. kvcompliance audit opgaven/ -o uitvoer/   controleer alle opgaven
      4. stuur elke aanbieder zijn werkboek uit uitvoer/accountgesprek/
    """


@main.command(**COMMAND)
@click.argument("inbox", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="MAP")
@click.option(
    "-o",
    "--uitvoer",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("uitvoer"),
    show_default=True,
    help="Map voor het overzicht, de bevindingen en de werkboeken per aanbieder.",
)
@click.option("--jaar", type=year_type(), metavar="JAAR", help="Het controlejaar. Standaard: het verslagjaar dat de meeste opgaven noemen.")
@rules_option
@contracts_option
@click.option(
    "--vorige",
    "previous_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Uitvoermap van de controle van vorig jaar: toon per aanbieder verbetering of verslechtering.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Aantal processen voor lezen en schrijven. Standaard: het aantal processorkernen.",
)
@click.option("--stil", is_flag=True, help="Geen voortgangsbalk tonen.")
@dossier_option
@settings_option
@guarded
def audit(
    inbox: Path,
    out_dir: Path,
    jaar: int | None,
    rules_file: Path | None,
    register_file: Path | None,
    previous_dir: Path | None,
    jobs: int | None,
    stil: bool,
    dossier_file: Path | None,
    settings_file: Path | None,
) -> None:
    """Controleer alle opgaven in MAP en schrijf de werkboeken.

    Leest elk bestand in MAP, toetst alle opgaven aan de regels en schrijft in de
    uitvoermap: overzicht.xlsx (voor u), bevindingen.csv en per aanbieder een
    werkboek voor het accountgesprek in accountgesprek/.

    Met --dossier komen er de eerdere jaren bij (tabblad Historie, escalatie in de
    bellijst) en wordt deze controle in het dossier bewaard; een dossier dat nog niet
    bestaat, wordt gemaakt.

    \b
    Voorbeeld:
      kvcompliance audit opgaven/ -o uitvoer/ --jaar 2025
      kvcompliance audit opgaven/ -o uitvoer-2025/ --dossier dossier.sqlite
    """
    from kvcompliance.audit import run_audit, status_counts, write_reports
    from kvcompliance.parallel import default_jobs

    settings = load_settings_for(settings_file)
    dossier = open_dossier_for(dossier_file, settings)  # checked before any return is read
    if jaar is None and settings.get("uitvraag", "verslagjaar") is not None:
        jaar = settings.get("uitvraag", "verslagjaar")
        year_given = f"uit de instellingen ({Path(settings.path).name})"
    else:
        year_given = "opgegeven met --jaar"
    jobs = jobs or default_jobs()
    progress = ClickProgress(enabled=not stil)
    result = run_audit(
        inbox,
        year=jaar,
        rules_file=str(rules_file) if rules_file else None,
        register_file=register_file,
        previous_dir=previous_dir,
        progress=progress,
        jobs=jobs,
        exclude=out_dir,
        year_given=year_given,
    )
    if dossier is not None:  # the Historie sheets need the earlier years before the workbooks are written
        from kvcompliance.dossier.history import attach_history

        result = attach_history(result, dossier)
    reports = write_reports(result, out_dir, progress=progress, jobs=jobs, letterhead=settings.letterhead())
    stored = None
    if dossier is not None:  # only once every report is written; one transaction
        from kvcompliance.dossier.store import store_audit

        stored = store_audit(dossier, result, sender=settings.letterhead().sender, progress=progress)

    catalogue = result.catalogue
    if not result.returns and not result.rejected:
        click.secho(f"Let op: in {inbox} staan geen bestanden om te controleren.", fg="yellow", err=True)
    for warning in catalogue.warnings:
        click.secho(f"Let op: {warning}", fg="yellow", err=True)
    click.echo(f"Controlejaar {result.audit_year}: {result.audit_year_source}.")
    if result.audit_year_warning:
        click.secho(result.audit_year_warning, fg="yellow", bold=True, err=True)
    n_returns, n_rejected = len(result.returns), len(result.rejected)
    click.echo(
        f"{n_returns} {'opgave' if n_returns == 1 else 'opgaven'} gecontroleerd, "
        f"{n_rejected} {'bestand' if n_rejected == 1 else 'bestanden'} niet verwerkt."
    )
    if n_returns:
        counts = status_counts(result)
        parts = [f"{catalogue.status_info(s).label.lower()} {n}" for s, n in counts.items()]
        click.echo("Eindoordeel per opgave: " + " · ".join(parts))
    if result.register is not None:
        match = result.register
        click.echo(
            f"Contractregister: {len(match.matched)} opgaven bij een contract, {len(match.unmatched)} zonder contract, "
            f"{len(match.missing)} {'contract' if len(match.missing) == 1 else 'contracten'} zonder opgave."
        )
    if result.trends is not None:
        from collections import Counter

        from kvcompliance import history

        trend = Counter(t.overall for t in result.trends.values())
        click.echo(
            f"Ten opzichte van vorig jaar: {trend[history.IMPROVED]} verbeterd, {trend[history.WORSENED]} verslechterd, "
            f"{trend[history.SAME]} gelijk, {trend[history.NEW]} nieuw, {trend[history.NOT_COMPARABLE]} niet te vergelijken."
        )
    for rejected in result.rejected:
        click.echo(f"  niet verwerkt: {rejected.source.path} — {rejected.reason}")
    click.echo(f"Overzicht:   {reports.overview}")
    click.echo(f"Bevindingen: {reports.findings_csv}")
    click.echo(f"Werkboeken:  {reports.out_dir / 'accountgesprek'} ({len(reports.provider_files)})")
    click.echo(f"Verzendlijst en verwerkingslog: {reports.out_dir / 'verzendlijst.csv'}, {reports.out_dir / 'verwerking.jsonl'}")
    for line in stored.summary(result.dossier) if stored is not None else ():
        click.echo(line)
    sys.exit(EXIT_NOT_ALL_PROCESSED if result.rejected else EXIT_OK)


@main.command(**COMMAND)
@click.option(
    "-o",
    "--uitvoer",
    "output",
    type=click.Path(path_type=Path),
    help="Het bestand voor het uitvraagformulier (standaard uitvraag.xlsx); met --contracten de map voor de "
    "formulieren (standaard formulieren/).",
)
@click.option(
    "--contracten",
    "register_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
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
            _fail(f"{output} is een map; geef een bestandsnaam op, bijvoorbeeld -o {output / 'uitvraag.xlsx'}.", EXIT_USAGE)
        write_template(output, catalogue, letterhead=letterhead)
        click.echo(f"Uitvraagformulier geschreven: {output}")
        return
    from kvcompliance.register import load_register
    from kvcompliance.template import write_prefilled_forms

    register = load_register(register_file, catalogue)
    written = write_prefilled_forms(register, catalogue, output or Path("formulieren"), letterhead=letterhead)
    folder = output or Path("formulieren")
    click.echo(
        f"{len(written)} vooraf ingevulde {'formulier' if len(written) == 1 else 'formulieren'} geschreven in {folder}"
        f" (één per contract uit {register_file.name})."
    )


@main.command(**COMMAND)
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
    click.echo(rules_table(catalogue, width=max(80, min(160, shutil.get_terminal_size((120, 40)).columns))))
    for warning in catalogue.warnings:
        click.secho(f"Let op: {warning}", fg="yellow", err=True)


@main.command(**COMMAND)
@click.option(
    "-o",
    "--uitvoer",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("kvcompliance.toml"),
    show_default=True,
    help="Het instellingenbestand dat wordt geschreven.",
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
        _fail(f"{output} bestaat al; het wordt niet overschreven. Kies een andere naam met -o.", EXIT_USAGE)
    try:
        with output.open("x", encoding="utf-8") as handle:
            handle.write(example_text())
    except OSError as exc:
        from kvcompliance.report.xlsx import os_reason

        _fail(f"{output} kan niet worden geschreven: {os_reason(exc)}.")
    click.echo(f"Voorbeeld van de instellingen geschreven: {output}. Pas de waarden aan voordat u het formulier maakt.")


@main.command(**COMMAND)
@click.argument("folder", type=click.Path(exists=True, path_type=Path), metavar="MAP")
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

    \b
    Voorbeeld:
      kvcompliance afspraken uitvoer-2024/accountgesprek/ --dossier dossier.sqlite
    """
    from kvcompliance.catalogue import load_catalogue
    from kvcompliance.dossier.agreements import read_folder, store_agreements, summary

    settings = load_settings_for(settings_file)
    dossier = open_dossier_for(dossier_file, settings)
    if dossier is None:
        _fail("Geef het dossier op met --dossier BESTAND (of met [dossier] pad in de instellingen).", EXIT_USAGE)
    found = read_folder(folder, load_catalogue())
    stored = store_agreements(dossier, found.read)
    lines, notes, problems = summary(folder, found, stored, dossier.path)
    for note in notes:
        click.secho(note, fg="yellow", err=True)
    for line in lines:
        click.echo(line)
    for problem in problems:
        click.secho(problem, fg="red", err=True)
    sys.exit(EXIT_NOT_ALL_PROCESSED if found.unreadable else EXIT_OK)


@main.group(**COMMAND, subcommand_metavar="COMMANDO [ARGUMENTEN]...")
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
    type=click.Path(file_okay=False, path_type=Path),
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
        _fail("Geef het dossier op met --dossier BESTAND (of met [dossier] pad in de instellingen).", EXIT_USAGE)
    for table in export_csv(found, csv_dir):
        click.echo(f"{table.path} ({plural(table.rows, 'rij', 'rijen')})")
