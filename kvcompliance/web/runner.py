"""The audit behind the web pages: in its own process, exactly as ``kvcompliance audit``.

A run is a separate process (started with ``spawn``, so it shares nothing with the web
server's threads): it calls :func:`kvcompliance.audit.run_audit` and
:func:`kvcompliance.audit.write_reports` as the CLI does, reports progress through a pipe
(:class:`PipeProgress`, an :class:`kvcompliance.audit.Progress`), and sends back the
:class:`~kvcompliance.model.AuditResult` for the pages. The web server only relays: its
pages stay quick while the audit uses every core. A run that does not write (``write=False``)
reads an earlier audit again to show it after the server was restarted; the files to
download are the ones that audit wrote.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

#: Progress messages are sent at most this often (seconds); a stage change always is.
STEP_INTERVAL = 0.1
#: Label of the stages the library does not report itself.
PREPARING = "Voorbereiden"
JUDGING = "Opgaven beoordelen"
FINISHING = "Overzicht en logboek afronden"
READING = "Bestanden lezen"
#: Who holds the output folder while a run that does not write reads its log (in messages).
READER = "het inlezen van de uitkomst in kvcompliance web"
#: How long that waits for an audit that is swapping its files into the folder (seconds).
READ_WAIT = 10.0


@dataclass(frozen=True)
class RunRequest:
    """What one run needs; plain and picklable (it crosses into the run's process)."""

    inbox: str
    out_dir: str
    year: int | None
    year_given: str
    rules_file: str | None = None
    register_file: str | None = None
    previous_dir: str | None = None
    settings_file: str | None = None
    settings_base: str | None = None  # where a relative path in it starts (the work folder)
    dossier: str | None = None  # the dossier file chosen (see extras)
    settings_dossier: bool = False  # without one chosen, the settings' [dossier] pad, as the CLI does
    jobs: int = 1
    write: bool = True


class PipeProgress:
    """:class:`kvcompliance.audit.Progress` that sends (kind, ...) tuples down a pipe."""

    def __init__(self, conn: Any):
        self._conn = conn
        self._pending = 0
        self._sent = 0.0
        self._label = ""

    def stage(self, label: str, total: int) -> None:
        self._flush()
        self._label = label
        self._conn.send(("fase", label, total))

    def step(self, n: int = 1) -> None:
        self._pending += n
        now = time.monotonic()
        if now - self._sent >= STEP_INTERVAL:
            self._flush()
            self._sent = now

    def done(self) -> None:
        self._flush()
        # what the library does next without reporting it
        self._conn.send(("fase", JUDGING if self._label == READING else FINISHING, 0))

    def _flush(self) -> None:
        if self._pending:
            self._conn.send(("stap", self._pending))
            self._pending = 0


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the run as Ctrl+C does: the ``with`` blocks clean up (staging, lock)."""
    import signal

    from kvcompliance.errors import Interrupted

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted(signum)


def files_from_log(out_dir: Path) -> dict[str, str]:
    """Return id -> workbook name, as the processing log of the last run wrote them."""
    import json

    from kvcompliance.outputs import LOG_FILE, PROVIDER_DIR

    path = Path(out_dir) / LOG_FILE
    files = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                entry = json.loads(line)
                if entry.get("opgave") and str(entry.get("werkboek", "")).startswith(f"{PROVIDER_DIR}/"):
                    files[entry["opgave"]] = entry["werkboek"].split("/", 1)[1]
    except (OSError, ValueError, AttributeError):
        return {}
    return files


def _run(conn: Any, request: RunRequest) -> None:
    """The run's process: the same calls as ``kvcompliance audit``, results down ``conn``."""
    import signal

    from kvcompliance.errors import KvError

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        conn.send(("fase", PREPARING, 0))
        from kvcompliance.audit import run_audit, write_reports
        from kvcompliance.settings import Settings, load_settings

        # no settings chosen: none (the CLI would look in its working folder; the web app has none)
        base = Path(request.settings_base) if request.settings_base else None
        settings = load_settings(Path(request.settings_file), base=base) if request.settings_file else Settings()
        dossier = None
        dossier_file = request.dossier or (settings.get("dossier", "pad") if request.settings_dossier else None)
        if dossier_file:  # checked before any return is read, as the CLI does
            from kvcompliance.dossier import open_dossier

            dossier = open_dossier(Path(dossier_file), create=request.write, write=request.write)
        progress = PipeProgress(conn)
        year, year_given = settings.audit_year(request.year, request.year_given)

        def audited():
            result = run_audit(
                Path(request.inbox),
                year=year,
                rules_file=request.rules_file,
                register_file=Path(request.register_file) if request.register_file else None,
                previous_dir=Path(request.previous_dir) if request.previous_dir else None,
                progress=progress,
                jobs=request.jobs,
                dossier=dossier.path if dossier is not None else None,
                year_given=year_given,
            )
            if dossier is not None:  # the Historie sheets need the earlier years before the workbooks are written
                from kvcompliance.dossier.history import attach_history

                result = attach_history(result, dossier)
            return result

        from kvcompliance.dossier import discarded_unless_used

        with discarded_unless_used(dossier):  # a dossier this run made goes again if it ends before storing
            if request.write:
                from kvcompliance.outputs import OutputFolder

                # opened before anything is read: another run writing into this folder is refused at once;
                # from the moment the new output is in place a stop is no longer obeyed (it would leave the
                # dossier a year behind the output, and the page saying nothing changed): the run finishes
                from kvcompliance.stops import LateStops

                # (held until this process ends: it ends once the result is sent)
                with OutputFolder(Path(request.out_dir), inbox=Path(request.inbox), stops=LateStops()) as folder:
                    result = audited()
                    reports = write_reports(result, folder, progress=progress, jobs=request.jobs, letterhead=settings.letterhead())
                    if dossier is not None:  # once every report is written and swapped in; one transaction
                        from kvcompliance.dossier.store import store_audit

                        store_audit(dossier, result, sender=settings.letterhead().sender, progress=progress)
                files, run = dict(reports.provider_files), folder.run_id
            else:
                result = audited()
                from kvcompliance.outputs import run_id, settled_output

                # the names of the workbooks as the last whole run wrote them: not while an audit swaps its files in
                with settled_output(Path(request.out_dir), READER, reading=True, wait=READ_WAIT):
                    files, run = files_from_log(Path(request.out_dir)), run_id(Path(request.out_dir))
        conn.send(("klaar", result, files, run))
    except KvError as exc:
        logging.getLogger(__name__).debug("the audit stopped", exc_info=True)  # what caused it: with --debug
        conn.send(("fout", str(exc)))
    except KeyboardInterrupt:  # Ctrl+C in the window reaches this process too: stop quietly
        pass
    except Exception as exc:  # noqa: BLE001 - the page says so in Dutch; the server log has the details
        logging.getLogger(__name__).exception("the audit failed")
        conn.send(("fout", f"Er ging iets onverwachts mis ({exc.__class__.__name__}). Start kvcompliance web opnieuw met"
                           " --debug en stuur wat in het venster verschijnt naar de beheerder."))
    finally:
        conn.close()
    # Everything is written and sent: end without freeing the audit object by object (as the
    # CLI ends, kvcompliance.cli.common.leave), which would keep the page waiting.
    logging.shutdown()
    os._exit(0)


STOPPED = "De controle is gestopt; aan de uitvoer en het dossier is niets veranderd."


@dataclass
class Job:
    """One run, as the progress page polls it."""

    audit_id: str
    write: bool
    state: str = "bezig"  # bezig | klaar | fout | gestopt
    stage: str = PREPARING
    done: int = 0
    total: int = 0
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    stages: list[tuple[str, float]] = field(default_factory=list)  # (label, seconds since start)
    stopped: bool = False  # the officer stopped it
    reported: bool = False  # its error was shown on a page (see Runner.forget)

    def as_json(self) -> dict[str, Any]:
        end = self.finished if self.finished is not None else time.monotonic()
        return {
            "toestand": self.state,
            "fase": self.stage,
            "gedaan": self.done,
            "totaal": self.total,
            "seconden": round(end - self.started, 1),
            "fout": self.error,
        }


class Runner:
    """Starts runs and keeps, per audit, the running or last job and the last result."""

    def __init__(self, on_result: Callable[[str, Job, Any, dict[str, str], str | None], None]):
        self._on_result = on_result
        self._jobs: dict[str, Job] = {}
        self._processes: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")

    def job(self, audit_id: str) -> Job | None:
        return self._jobs.get(audit_id)

    def busy(self, audit_id: str) -> bool:
        job = self._jobs.get(audit_id)
        return job is not None and job.state == "bezig"

    def start(self, audit_id: str, request: RunRequest) -> Job | None:
        """Start a run for ``audit_id``; None when one is going on already."""
        with self._lock:
            if self.busy(audit_id):
                return None
            job = Job(audit_id, request.write)
            self._jobs[audit_id] = job
        receiver, sender = self._context.Pipe(duplex=False)
        process = self._context.Process(target=_run, args=(sender, request), name=f"kvcompliance-{audit_id}", daemon=False)
        process.start()
        self._processes[audit_id] = process
        sender.close()
        threading.Thread(target=self._pump, args=(job, receiver, process), name=f"voortgang-{audit_id}", daemon=True).start()
        return job

    def forget(self, audit_id: str, job: Job) -> bool:
        """For a run that failed: False the first time (its error is shown), True after, when
        it is forgotten, so that the next visit tries again (an audit that held the folder
        may be done by now)."""
        with self._lock:
            if not job.reported:
                job.reported = True
                return False
            if self._jobs.get(audit_id) is job:
                del self._jobs[audit_id]
            return True

    def stop(self, audit_id: str) -> bool:
        """Stop the running audit of ``audit_id`` as Ctrl+C stops the CLI (SIGTERM): its
        staging folder and lock are cleaned up, the output folder and the dossier keep what
        they held. False when nothing is running."""
        with self._lock:
            job, process = self._jobs.get(audit_id), self._processes.get(audit_id)
            if job is None or job.state != "bezig" or process is None:
                return False
            job.stopped = True
        process.terminate()
        return True

    def _pump(self, job: Job, conn: Any, process: Any) -> None:
        result = files = run = None
        try:
            while True:
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    break
                kind = message[0]
                if kind == "fase":
                    job.stage, job.total, job.done = message[1], message[2], 0
                    job.stages.append((message[1], round(time.monotonic() - job.started, 2)))
                elif kind == "stap":
                    job.done += message[1]
                elif kind == "klaar":
                    result, files, run = message[1], message[2], message[3]
                    job.stages.append(("uitkomst ontvangen", round(time.monotonic() - job.started, 2)))
                    break
                elif kind == "fout":
                    job.error = message[1]
                    break
        finally:
            conn.close()
        job.finished = time.monotonic()
        if result is not None:
            try:
                self._on_result(job.audit_id, job, result, files or {}, run)
                job.stages.append(("uitkomst bewaard", round(time.monotonic() - job.started, 2)))
            except Exception:  # noqa: BLE001
                log.exception("keeping the result failed")
                job.error = "De uitkomst kon niet worden bewaard."
        elif job.stopped:
            job.error = STOPPED
        elif not job.error:
            job.error = "De controle is onverwacht gestopt (het proces is beëindigd). Probeer het opnieuw."
        job.state = "klaar" if not job.error else "gestopt" if job.stopped and result is None else "fout"
        process.join()  # it ends at once (os._exit); joined so that no process is left behind
