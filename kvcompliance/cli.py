"""The ``kvcompliance`` command: a thin Dutch skin over the library.

Only this module prints, talks to click or chooses exit codes. Heavy imports (pandas,
pandera, xlsxwriter) happen inside the commands so that ``--help`` stays fast.

Exit codes of ``audit``: 0 every file audited; 1 the audit ran but some files were not
processed; 2 usage error; 3 the audit could not run; 130 / 143 stopped by SIGINT (Ctrl-C) /
SIGTERM. ``verzend``: 0 every provider got its draft or e-mail; 1 some did not (each
listed with the reason); 2 usage error; 3 it could not run, or stopped (a lost connection).
Every text that comes from outside (file, folder and provider names, messages quoting
them) is printed through :func:`~kvcompliance.text.printable`.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import signal
import sys
import traceback
from pathlib import Path

import click

from kvcompliance import __version__, clinl
from kvcompliance.text import printable

clinl.install()

EXIT_OK = 0
EXIT_NOT_ALL_PROCESSED = 1
EXIT_USAGE = 2
EXIT_CANNOT_RUN = 3
#: An interrupted run ends with 128 + the signal number, as a shell reports it.
EXIT_INTERRUPTED = {signal.SIGINT: 128 + signal.SIGINT, signal.SIGTERM: 128 + signal.SIGTERM}

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
            _fail(str(exc))
        except KeyboardInterrupt as exc:  # Ctrl-C, or kvcompliance.errors.Interrupted (SIGTERM)
            if debug:
                traceback.print_exc()
            signum = getattr(exc, "signum", signal.SIGINT)
            click.secho("Afgebroken.", fg="red", err=True)
            sys.exit(EXIT_INTERRUPTED.get(signum, 128 + signum))
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
        click.echo(f"Nieuw dossier gemaakt: {printable(dossier.path)}", err=True)
    elif dossier.migrated_from is not None:
        click.echo(printable(f"Dossier {dossier.name} bijgewerkt naar de nieuwe indeling; het oude staat in {dossier.backup}."), err=True)
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


def _on_signal(signum: int, frame: object) -> None:
    """SIGINT and SIGTERM stop the run once: the first raises
    :class:`~kvcompliance.errors.Interrupted` where the program is (the ``with`` blocks
    then end the workers, remove the staging folder and release the lock); a second one
    while that cleaning runs is ignored, so the cleaning is never cut short."""
    from kvcompliance.errors import Interrupted

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(signum)


def run() -> None:
    """The ``kvcompliance`` program: :func:`main`, then :func:`leave`."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)
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
      1. kvcompliance init                         schrijf kvcompliance.toml en vul afzender en data in
      2. kvcompliance template -o uitvraag.xlsx    maak het uitvraagformulier
      3. stuur het formulier naar elke aanbieder en verzamel de ingevulde bestanden in één map
      4. kvcompliance audit opgaven/ -o uitvoer/   controleer alle opgaven; begin bij de Bellijst
      5. stuur elke aanbieder zijn werkboek uit uitvoer/accountgesprek/
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
    from kvcompliance.outputs import OutputFolder
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
    # Opened before anything is read: an output folder that would touch the inbox, or
    # one another run is writing into, is refused at once.
    with OutputFolder(out_dir, inbox=inbox) as folder:
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
        reports = write_reports(result, folder, progress=progress, jobs=jobs, letterhead=settings.letterhead())
        stored = None
        if dossier is not None:  # only once every report is written and swapped in; one transaction
            from kvcompliance.dossier.store import store_audit

            stored = store_audit(dossier, result, sender=settings.letterhead().sender, progress=progress)

    catalogue = result.catalogue
    if not result.returns and not result.rejected and not result.skipped:
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
        click.echo(f"  niet verwerkt: {printable(rejected.source.path)} — {printable(rejected.reason)}")
    for skipped in result.skipped:
        click.echo(f"  overgeslagen: {printable(skipped.source.path)} — {printable(skipped.reason)}")
    out = reports.out_dir
    click.echo(f"Overzicht:   {printable(reports.overview)}")
    click.echo(f"Bevindingen: {printable(reports.findings_csv)}")
    click.echo(f"Werkboeken:  {printable(out / 'accountgesprek')} ({len(reports.provider_files)})")
    click.echo(f"Verzendlijst en verwerkingslog: {printable(out / 'verzendlijst.csv')}, {printable(out / 'verwerking.jsonl')}")
    for line in stored.summary(result.dossier) if stored is not None else ():
        click.echo(printable(line))
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
    table = rules_table(catalogue, width=max(80, min(160, shutil.get_terminal_size((120, 40)).columns)))
    click.echo("\n".join(printable(line) for line in table.splitlines()))  # a rules file's texts, line by line
    for warning in catalogue.warnings:
        click.secho(f"Let op: {printable(warning)}", fg="yellow", err=True)


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
        _fail(f"{printable(output)} bestaat al; het wordt niet overschreven. Kies een andere naam met -o.", EXIT_USAGE)
    try:
        with output.open("x", encoding="utf-8") as handle:
            handle.write(example_text())
    except OSError as exc:
        from kvcompliance.errors import os_reason

        _fail(f"{printable(output)} kan niet worden geschreven: {os_reason(exc)}.")
    click.echo(f"Voorbeeld van de instellingen geschreven: {printable(output)}. Pas de waarden aan voordat u het formulier maakt.")


#: The environment variable verzend reads the SMTP password from (never an option or a file).
PASSWORD_VARIABLE = "KVCOMPLIANCE_SMTP_WACHTWOORD"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@main.command(**COMMAND)
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="UITVOER")
@click.option("--herinnering", is_flag=True,
              help="Herinneringen in plaats van werkboeken: aan contracten zonder opgave (controle met --contracten) en aan "
                   "opgaven waarvan de aanlevering grijs is, met wat er ontbreekt.")
@click.option("--verstuur", is_flag=True, help="Verstuur de e-mails echt (met --smtp); zonder deze optie alleen concepten.")
@click.option("--smtp", "smtp_server", metavar="SERVER[:POORT]",
              help="De mailserver, bijvoorbeeld smtp.gemeente.nl:587. Poort 465: TLS; elke andere poort: STARTTLS verplicht.")
@click.option("--tls", "security", flag_value="tls", help="TLS vanaf het begin (standaard bij poort 465).")
@click.option("--starttls", "security", flag_value="starttls", help="STARTTLS verplicht (standaard bij elke andere poort).")
@click.option("--geen-tls", "security", flag_value="geen",
              help="Zonder versleuteling: alleen voor een testserver of een relay in het eigen netwerk.")
@click.option("--gebruiker", metavar="NAAM",
              help=f"Inlognaam bij de mailserver. Het wachtwoord komt uit {PASSWORD_VARIABLE} of wordt gevraagd.")
@click.option("--pauze", type=click.FloatRange(0, 600), default=1.0, show_default=True, metavar="SECONDEN",
              help="Wachttijd tussen twee e-mails.")
@click.option("--ja", is_flag=True, help="Verstuur zonder te vragen (voor een geplande taak).")
@click.option("--opnieuw", is_flag=True,
              help="Verstuur ook een werkboek dat een nieuwe controle opnieuw maakte van een opgave die al met hetzelfde "
                   "eindoordeel is verstuurd. Precies hetzelfde werkboek gaat nooit twee keer.")
@settings_option
@guarded
def verzend(
    out_dir: Path,
    herinnering: bool,
    verstuur: bool,
    smtp_server: str | None,
    security: str | None,
    gebruiker: str | None,
    pauze: float,
    ja: bool,
    opnieuw: bool,
    settings_file: Path | None,
) -> None:
    """Stuur elke aanbieder zijn werkboek: concepten, of echt versturen.

    Leest verzendlijst.csv in UITVOER (de uitvoermap van kvcompliance audit) en schrijft
    per aanbieder met een geldig e-mailadres een concept-e-mail met de begeleidende brief
    en het eigen werkboek als bijlage in UITVOER/verzending/. Open een concept in Outlook
    of Thunderbird om het na te lezen en te versturen. Met --verstuur --smtp gaan de
    e-mails echt weg; een werkboek gaat nooit twee keer naar hetzelfde adres.

    Geen e-mail krijgt: wie geen of een ongeldig e-mailadres heeft, een adres dat ook bij
    een andere aanbieder staat, of een werkboek dat niet uit de laatste controle komt.

    \b
    Voorbeeld:
      kvcompliance verzend uitvoer/
      kvcompliance verzend uitvoer/ --herinnering
      kvcompliance verzend uitvoer/ --verstuur --smtp smtp.gemeente.nl:587 --gebruiker inkoop
    """
    from kvcompliance.mail.messages import write_drafts
    from kvcompliance.mail.plan import REMINDERS, make_plan

    if smtp_server and not verstuur:
        _fail("--smtp hoort bij --verstuur: geef beide op om te versturen, of geen van beide voor concepten.", EXIT_USAGE)
    if verstuur and not smtp_server:
        _fail("Met --verstuur is --smtp SERVER[:POORT] nodig, bijvoorbeeld --smtp smtp.gemeente.nl:587.", EXIT_USAGE)
    settings = load_settings_for(settings_file)
    head = settings.letterhead()
    plan = make_plan(out_dir, settings, reminders=herinnering)
    mails = ("herinnering", "herinneringen") if plan.mailing == REMINDERS else ("e-mail", "e-mails")
    click.echo(f"Verzendlijst: {printable(out_dir / 'verzendlijst.csv')} ({_count(plan.rows, 'regel', 'regels')}).")
    if not head.email:
        click.secho("Let op: er is geen afzender ingesteld ([afzender] email in de instellingen); de concepten hebben geen "
                    "afzender en de brief geen ondertekening met contactgegevens.", fg="yellow", err=True)
    drafts = write_drafts(out_dir, plan.mailing, plan.outgoing, head)
    what = "met de herinnering" if plan.mailing == REMINDERS else "met de brief en het eigen werkboek als bijlage"
    click.echo(f"{_count(len(drafts.written), 'concept', 'concepten')} {what} in {printable(drafts.folder)}.")
    if drafts.removed:
        click.echo(f"{_count(drafts.removed, 'eerder concept', 'eerdere concepten')} van verzend vervangen of verwijderd.")
    for name, reason in drafts.kept:
        click.secho(f"  niet geschreven: {printable(reason)}", fg="yellow")
    if plan.left:
        click.secho(f"{_count(len(plan.left), 'aanbieder krijgt', 'aanbieders krijgen')} geen {mails[0]}:", fg="yellow")
        for left in plan.left:
            address = f" ({left.address})" if left.address else ""
            click.echo(f"  {printable(left.who)}{printable(address)}: {printable(left.reason)}")
    if not plan.outgoing and not plan.left:
        click.echo("Er is niemand om te mailen." if plan.mailing != REMINDERS
                   else "Er is niemand om te herinneren: geen contracten zonder opgave en geen opgaven met aanlevering grijs"
                   " (contracten zonder opgave staan in de verzendlijst na een controle met --contracten).")
    failed = bool(plan.left or drafts.kept)
    if verstuur:
        failed = _send(out_dir, plan, head, smtp_server, security, gebruiker, pauze, ja, mails, opnieuw) or failed
    elif plan.outgoing:
        click.echo("Open een concept (.eml) in Outlook of Thunderbird om het na te lezen en te versturen, "
                   "of verstuur alles met --verstuur --smtp SERVER.")
    sys.exit(EXIT_NOT_ALL_PROCESSED if failed else EXIT_OK)


def _send(out_dir, plan, head, smtp_server, security, user, pause, yes, mails, again) -> bool:
    """Send the plan's e-mails (verzend --verstuur); True when some were not sent."""
    from kvcompliance.mail.smtp import REFUSED, SENT, STOPPED, already_sent, log_path, send, server_from

    from kvcompliance.errors import MailError

    try:
        server = server_from(smtp_server, security, user)  # checked before a password is asked for
    except MailError as exc:
        _fail(str(exc), EXIT_USAGE)
    if not head.email:
        _fail("Om te versturen is een afzender nodig: zet [afzender] email in de instellingen (--instellingen BESTAND).")
    done = already_sent(out_dir, plan.outgoing, same_return=not again)
    todo = [item for item in plan.outgoing if item.draft_name not in done]
    if done:
        click.echo(f"{_count(len(done), mails[0], mails[1])} al eerder verstuurd (zie {log_path(out_dir)}); "
                   f"{'die gaat' if len(done) == 1 else 'die gaan'} niet opnieuw.")
    if not todo:
        click.echo(f"Geen {mails[0]} te versturen.")
        return False
    password = None
    if user:
        password = os.environ.get(PASSWORD_VARIABLE) or click.prompt(f"Wachtwoord voor {user} bij {server.host}",
                                                                      hide_input=True, default="", show_default=False)
    server = server_from(smtp_server, security, user, password)
    click.echo(f"Klaar om {_count(len(todo), mails[0], mails[1])} te versturen via {server.label}, van {head.email}"
               + (f", ingelogd als {user}." if user else "."))
    if not yes:
        try:
            answer = click.prompt("Versturen? (ja/nee)", default="nee", show_default=False)
        except click.Abort:
            answer = "nee"
        if answer.strip().lower() not in ("j", "ja"):
            click.echo("Niets verstuurd.")
            return True
    sent = refused = 0
    stopped = None
    for outcome in send(out_dir, todo, server, head, pause=pause):
        item = outcome.item
        if outcome.state == SENT:
            sent += 1
            click.echo(f"  verstuurd: {printable(item.who)} → {printable(item.row.address)} ({printable(outcome.answer)})")
        elif outcome.state == REFUSED:
            refused += 1
            click.secho(f"  geweigerd: {printable(item.who)} → {printable(item.row.address)}: {printable(outcome.answer)}", fg="yellow")
        elif outcome.state == STOPPED:
            stopped = outcome
    click.echo(f"{_count(sent, mails[0], mails[1])} verstuurd, {refused} geweigerd door de server. Logboek: {log_path(out_dir)}")
    if stopped is not None:
        left = len(todo) - sent - refused
        click.secho(
            f"Fout: de verbinding met {server.host} is verbroken bij {stopped.item.who} ({stopped.item.row.address}): "
            f"{stopped.answer}. {_count(left, mails[0], mails[1])} niet verstuurd. Draai hetzelfde commando opnieuw voor de "
            "rest: wat al verstuurd is, gaat niet nog eens.", fg="red", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    return bool(refused)


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
        click.secho(printable(note), fg="yellow", err=True)
    for line in lines:
        click.echo(printable(line))
    for problem in problems:
        click.secho(printable(problem), fg="red", err=True)
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
        click.echo(f"{printable(table.path)} ({plural(table.rows, 'rij', 'rijen')})")
