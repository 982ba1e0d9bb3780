"""``kvcompliance verzend``: drafts, reminders and sending by SMTP."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from kvcompliance.cli.common import (COMMAND, EXIT_OK, EXIT_NOT_ALL_PROCESSED, EXIT_USAGE, EXIT_CANNOT_RUN, fail, guarded, settings_option, load_settings_for)
from kvcompliance.clinl import Folder, Number
from kvcompliance.text import printable


#: The environment variable verzend reads the SMTP password from (never an option or a file).
PASSWORD_VARIABLE = "KVCOMPLIANCE_SMTP_WACHTWOORD"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@click.command(**COMMAND)
@click.argument("out_dir", type=Folder(exists=True), metavar="UITVOER")
@click.option("--herinnering", is_flag=True,
              help="Herinneringen in plaats van werkboeken: aan contracten zonder opgave (controle met --contracten) en aan "
                   "opgaven die moeten worden aangevuld (een oordeel grijs), met wat er ontbreekt.")
@click.option("--verstuur", is_flag=True, help="Verstuur de e-mails echt (met --smtp); zonder deze optie alleen concepten.")
@click.option("--smtp", "smtp_server", metavar="SERVER[:POORT]",
              help="De mailserver, bijvoorbeeld smtp.gemeente.nl:587. Poort 465: TLS; elke andere poort: STARTTLS verplicht.")
@click.option("--tls", "security", flag_value="tls", help="TLS vanaf het begin (standaard bij poort 465).")
@click.option("--starttls", "security", flag_value="starttls", help="STARTTLS verplicht (standaard bij elke andere poort).")
@click.option("--geen-tls", "security", flag_value="geen",
              help="Zonder versleuteling: alleen voor een testserver of een relay in het eigen netwerk.")
@click.option("--gebruiker", metavar="NAAM",
              help=f"Inlognaam bij de mailserver. Het wachtwoord komt uit {PASSWORD_VARIABLE} of wordt gevraagd.")
@click.option("--pauze", type=Number(0, 600, "aantal seconden", whole=False), default=1.0, metavar="SECONDEN",
              help="Wachttijd tussen twee e-mails (standaard: 1).")
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
    """Stuur elke aanbieder zijn werkboek: als concept of echt.

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
    if smtp_server and not verstuur:
        fail("--smtp hoort bij --verstuur: geef beide op om te versturen, of geen van beide voor concepten.", EXIT_USAGE)
    if verstuur and not smtp_server:
        fail("Met --verstuur is --smtp SERVER[:POORT] nodig, bijvoorbeeld --smtp smtp.gemeente.nl:587.", EXIT_USAGE)
    from kvcompliance.mail.mailinglist import read_mailing_list
    from kvcompliance.outputs import is_output_folder, settled_output

    settings = load_settings_for(settings_file)
    if not is_output_folder(out_dir):
        read_mailing_list(out_dir)  # no output folder of an audit at all: say so before taking its lock
    with settled_output(out_dir, "kvcompliance verzend"):  # no audit swaps its files in while we read and send
        _verzend(out_dir, settings, herinnering, verstuur, smtp_server, security, gebruiker, pauze, ja, opnieuw)


def _verzend(out_dir, settings, herinnering, verstuur, smtp_server, security, gebruiker, pauze, ja, opnieuw) -> None:
    from kvcompliance.mail.messages import write_drafts
    from kvcompliance.mail.plan import REMINDERS, make_plan

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
                   else "Er is niemand om te herinneren: geen contracten zonder opgave en geen opgaven die moeten worden aangevuld"
                   " (contracten zonder opgave staan in de verzendlijst na een controle met --contracten).")
    failed = bool(plan.left or drafts.kept)
    if verstuur:
        failed = _send(out_dir, plan, head, smtp_server, security, gebruiker, pauze, ja, mails, opnieuw) or failed
    elif plan.outgoing:
        click.echo("Open een concept (.eml) in Outlook of Thunderbird om het na te lezen en te versturen, "
                   "of verstuur alles met --verstuur --smtp SERVER.")
    if plan.mailing != REMINDERS and (plan.missing or plan.incomplete):
        chase = ([_count(plan.missing, "contract", "contracten") + " zonder opgave"] if plan.missing else []) + (
            [_count(plan.incomplete, "opgave die moet", "opgaven die moeten") + " worden aangevuld"] if plan.incomplete else [])
        click.echo(f"Nog te herinneren: {' en '.join(chase)}. Maak die e-mails met --herinnering.")
    sys.exit(EXIT_NOT_ALL_PROCESSED if failed else EXIT_OK)


def _send(out_dir, plan, head, smtp_server, security, user, pause, yes, mails, again) -> bool:
    """Send the plan's e-mails (verzend --verstuur); True when some were not sent."""
    from kvcompliance.mail.smtp import REFUSED, SENT, STOPPED, already_sent, log_path, send, server_from

    from kvcompliance.errors import MailError

    try:
        server = server_from(smtp_server, security, user)  # checked before a password is asked for
    except MailError as exc:
        fail(str(exc), EXIT_USAGE)
    if not head.email:
        fail("Om te versturen is een afzender nodig: zet [afzender] email in de instellingen (--instellingen BESTAND).")
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
