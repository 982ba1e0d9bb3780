"""``kvcompliance audit``: audit every return in a folder and write the reports."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kvcompliance.cli.common import (COMMAND, EXIT_OK, EXIT_NOT_ALL_PROCESSED, ClickProgress, guarded, rules_option, settings_option, contracts_option, dossier_option, load_settings_for, open_dossier_for, year_type,
                                     announce_new)
from kvcompliance.clinl import Folder, Number
from kvcompliance.text import printable


@click.command(**COMMAND)
@click.argument("inbox", type=Folder(exists=True), metavar="MAP")
@click.option(
    "-o",
    "--uitvoer",
    "out_dir",
    type=Folder(),
    default=Path("uitvoer"),
    help="Map voor het overzicht, de bevindingen en de werkboeken per aanbieder (standaard: uitvoer).",
)
@click.option("--jaar", type=year_type(), metavar="JAAR",
              help="Het controlejaar. Standaard: het verslagjaar uit de instellingen, anders het verslagjaar dat de meeste "
                   "opgaven noemen.")
@rules_option
@contracts_option
@click.option(
    "--vorige",
    "previous_dir",
    type=Folder(exists=True),
    help="Uitvoermap van de controle van vorig jaar: toon per aanbieder verbetering of verslechtering.",
)
@click.option(
    "--jobs",
    type=Number(1, 64, "aantal"),
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
    from kvcompliance.catalogue.skipped import EMPTY_FOLDER
    from kvcompliance.dossier import discarded_unless_used
    from kvcompliance.outputs import OutputFolder
    from kvcompliance.parallel import default_jobs
    from kvcompliance.stops import LateStops
    from kvcompliance.values import plural

    settings = load_settings_for(settings_file)
    dossier = open_dossier_for(dossier_file, settings, announce=False)  # checked before any return is read
    jaar, year_given = settings.audit_year(jaar, "opgegeven met --jaar")
    jobs = jobs or default_jobs()
    progress = ClickProgress(enabled=not stil)
    # Once the new output is in place, Ctrl-C no longer stops the run: it stores in the
    # dossier and reports (and says the stop came too late). Put back when all is said.
    with LateStops() as stops:
        # A dossier this run made is removed again if the run ends before storing in it.
        with discarded_unless_used(dossier):
            # Opened before anything is read: an output folder that would touch the inbox, or
            # one another run is writing into, is refused at once.
            with OutputFolder(out_dir, inbox=inbox, stops=stops) as folder:
                result = run_audit(
                    inbox,
                    year=jaar,
                    rules_file=str(rules_file) if rules_file else None,
                    register_file=register_file,
                    previous_dir=previous_dir,
                    progress=progress,
                    jobs=jobs,
                    exclude=out_dir,
                    dossier=dossier.path if dossier is not None else None,
                    year_given=year_given,
                    settings_file=Path(settings.path) if settings.path else None,
                )
                if dossier is not None:  # the Historie sheets need the earlier years before the workbooks are written
                    from kvcompliance.dossier.history import attach_history

                    result = attach_history(result, dossier)
                reports = write_reports(result, folder, progress=progress, jobs=jobs, letterhead=settings.letterhead())
                stored = None
                if dossier is not None:  # only once every report is written and swapped in; one transaction
                    from kvcompliance.dossier.store import store_audit

                    stored = store_audit(dossier, result, sender=settings.letterhead().sender, progress=progress)

        catalogue = result.catalogue
        if not result.returns and not result.rejected and all(s.kind == EMPTY_FOLDER for s in result.skipped):
            click.secho(f"Let op: in {printable(inbox)} staan geen bestanden om te controleren.", fg="yellow", err=True)
        for warning in catalogue.warnings:
            click.secho(f"Let op: {printable(warning)}", fg="yellow", err=True)
        click.echo(f"Controlejaar {result.audit_year}: {printable(result.audit_year_source)}.")
        if result.audit_year_warning:
            click.secho(result.audit_year_warning, fg="yellow", bold=True, err=True)
        n_returns, n_rejected, n_skipped = len(result.returns), len(result.rejected), len(result.skipped)
        click.echo(
            f"{n_returns} {'opgave' if n_returns == 1 else 'opgaven'} gecontroleerd, "
            f"{n_rejected} {'bestand' if n_rejected == 1 else 'bestanden'} niet verwerkt"
            + (f", {n_skipped} {'item' if n_skipped == 1 else 'items'} bewust overgeslagen" if n_skipped else "")
            + "."
        )
        if n_returns:
            counts = status_counts(result)
            parts = [f"{catalogue.status_info(s).label.lower()} {n}" for s, n in counts.items()]
            click.echo("Eindoordeel per opgave: " + " · ".join(parts))
        if result.register is not None:
            match = result.register
            click.echo(
                f"Contractregister: {plural(len(match.matched), 'opgave', 'opgaven')} bij een contract, {len(match.unmatched)} zonder"
                f" contract, {plural(len(match.missing), 'contract', 'contracten')} zonder opgave."
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
            click.echo(f"  niet verwerkt: {printable(rejected.source.path)} — {printable(rejected.reason)}")
        for skipped in result.skipped:
            click.echo(f"  overgeslagen: {printable(skipped.source.path)} — {printable(skipped.reason)}")
        out = reports.out_dir
        click.echo(f"Overzicht:   {printable(reports.overview)}")
        click.echo(f"Bevindingen: {printable(reports.findings_csv)}")
        if reports.provider_files:
            click.echo(f"Werkboeken:  {printable(out / 'accountgesprek')} ({len(reports.provider_files)})")
        else:  # no folder is written then: never print a path that is not there
            click.echo("Werkboeken:  geen (er is geen opgave gecontroleerd)")
        click.echo(f"Verzendlijst en verwerkingslog: {printable(out / 'verzendlijst.csv')}, {printable(out / 'verwerking.jsonl')}")
        if stored is not None and dossier.created:
            announce_new(dossier)
        for rel, new_name in reports.changed:
            click.secho(
                f"Let op: {printable(rel)} is gewijzigd sinds de vorige controle (bijvoorbeeld afspraken ingevuld) en blijft"
                " staan zoals het is" + (f"; het werkboek van deze controle heet {printable(new_name)}" if new_name else "")
                + ". Bewaar de afspraken met kvcompliance afspraken.", fg="yellow", err=True)
        for line in stored.summary(result.dossier) if stored is not None else ():
            click.echo(printable(line))
        if stops.signum is not None:
            click.secho(
                "Let op: de controle is niet gestopt, want toen het verzoek daartoe kwam, stond de nieuwe uitvoer al op"
                " zijn plaats. De uitvoermap bevat deze controle" + (" en het dossier is bijgewerkt" if stored is not None else "")
                + ", zoals hierboven staat.", fg="yellow", err=True)
        if reports.provider_files:
            _next_steps(result, out, dossier_file, settings_file)
        sys.exit(EXIT_NOT_ALL_PROCESSED if result.rejected else EXIT_OK)


SHELL_QUOTE = '"'


def _next_steps(result, out: Path, dossier_file: Path | None, settings_file: Path | None) -> None:
    """What the officer does next (DOMAIN §6): triage on the call list, send the workbooks,
    chase missing and incomplete returns, and after the conversations keep the agreements
    (in the dossier named the way this audit was given it)."""
    from kvcompliance.report.calllist import needs_data
    from kvcompliance.values import plural

    def argument(path: Path) -> str:  # a path with a space, in the double quotes a shell (and PowerShell) wants
        text = printable(path)
        return SHELL_QUOTE + text + SHELL_QUOTE if " " in text else text

    click.echo(f"Volgende stap: begin bij de Bellijst in {printable(out / 'overzicht.xlsx')}.")
    settings = f" --instellingen {argument(settings_file)}" if settings_file else ""  # the letters' sender and dates
    click.echo(f"Werkboeken versturen: kvcompliance verzend {argument(out)}{settings}")
    missing = len(result.register.missing) if result.register is not None else 0
    incomplete = sum(1 for record in result.returns if needs_data(result, record.return_id))
    chase = ([plural(missing, "contract", "contracten") + " zonder opgave"] if missing else []) + (
        [plural(incomplete, "# opgave die moet", "# opgaven die moeten") + " worden aangevuld"] if incomplete else [])
    if chase:
        click.echo(f"Herinneren ({' en '.join(chase)}): kvcompliance verzend {argument(out)} --herinnering{settings}")
    if result.dossier is not None:
        which = (f" --dossier {argument(dossier_file)}" if dossier_file else "") + settings
        click.echo(f"Na de gesprekken de afspraken bewaren: kvcompliance afspraken {argument(out / 'accountgesprek')}{which}")
