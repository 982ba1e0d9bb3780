"""The output folder as one transaction: staging, manifest, lock, swap, and the inbox
never touched. Real files, real processes that die in the middle of a swap."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from kvcompliance.cli import main
from kvcompliance.errors import OutputError
from kvcompliance.outputs import (
    JOURNAL_FILE,
    LOCK_FILE,
    MANIFEST_FILE,
    RUN_FILES,
    OutputFolder,
    is_internal_name,
    is_output_folder,
)

SAMPLES = Path(__file__).parent.parent / "sample_workbooks"
ROOT = Path(__file__).parent.parent


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def inbox_of(tmp_path: Path, names=("01_stichting-jeugdhulp-de-kern.xlsx", "02_horizon-jeugdzorg-b-v.xlsx"), where=None) -> Path:
    inbox = where or tmp_path / "opgaven"
    inbox.mkdir(parents=True)
    for name in names:
        shutil.copy(SAMPLES / name, inbox / name)
    return inbox


def audit(*args: str):
    return CliRunner().invoke(main, ["audit", *map(str, args), "--stil"])


def workbooks(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "accountgesprek").iterdir())


# --------------------------------------------------------------------------- the run
def test_a_run_replaces_only_its_own_files_and_lists_them_in_its_manifest(tmp_path):
    inbox = inbox_of(tmp_path, names=sorted(p.name for p in SAMPLES.glob("0[1-3]_*.xlsx")))
    out = tmp_path / "uitvoer"
    assert audit(inbox, "-o", out).exit_code == 0
    first = workbooks(out)
    assert len(first) == 3
    (out / "mijn-notities.txt").write_text("van de adviseur")
    (out / "accountgesprek" / "brief aan aanbieder.docx").write_bytes(b"eigen")
    (inbox / sorted(os.listdir(inbox))[0]).unlink()

    result = audit(inbox, "-o", out)
    assert result.exit_code == 0, result.output
    assert audit(inbox, "-o", tmp_path / "vers").exit_code == 0  # the same inbox into a fresh folder
    assert workbooks(out) == sorted([*workbooks(tmp_path / "vers"), "brief aan aanbieder.docx"])
    assert len(set(first) - set(workbooks(out))) == 1  # the workbook of the removed return is gone
    assert (out / "mijn-notities.txt").read_text() == "van de adviseur"
    assert (out / "accountgesprek" / "brief aan aanbieder.docx").read_bytes() == b"eigen"
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    ours = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert set(manifest["bestanden"]) == ours - {"mijn-notities.txt", "accountgesprek/brief aan aanbieder.docx"}
    assert len([f for f in manifest["bestanden"] if f.startswith("accountgesprek/")]) == 2
    # the mailing list and the log name exactly the workbooks that are there
    with (out / "verzendlijst.csv").open(encoding="utf-8-sig", newline="") as handle:
        mailed = {row["werkboek"] for row in csv.DictReader(handle, delimiter=";") if row["werkboek"]}
    logged = {json.loads(line)["werkboek"] for line in (out / "verwerking.jsonl").read_text(encoding="utf-8").splitlines()}
    assert mailed == logged == {f for f in manifest["bestanden"] if f.startswith("accountgesprek/")}
    assert all((out / f).is_file() for f in mailed)
    assert sorted(os.listdir(out)) == sorted([MANIFEST_FILE, "accountgesprek", "mijn-notities.txt", *RUN_FILES])


def test_a_workbook_name_an_officer_already_uses_is_not_overwritten(tmp_path):
    inbox = inbox_of(tmp_path, names=["01_stichting-jeugdhulp-de-kern.xlsx"])
    out = tmp_path / "uitvoer"
    assert audit(inbox, "-o", out).exit_code == 0
    (name,) = workbooks(out)
    shutil.rmtree(out)
    (out / "accountgesprek").mkdir(parents=True)
    (out / "accountgesprek" / name).write_bytes(b"de eigen versie van de adviseur")
    assert audit(inbox, "-o", out).exit_code == 0
    assert (out / "accountgesprek" / name).read_bytes() == b"de eigen versie van de adviseur"
    assert workbooks(out) == sorted([name, name.replace(".xlsx", "_2.xlsx")])


def test_a_workbook_the_officer_typed_agreements_in_survives_the_next_run(tmp_path):
    import openpyxl

    inbox = inbox_of(tmp_path)
    out = tmp_path / "uitvoer"
    assert audit(inbox, "-o", out).exit_code == 0
    first = workbooks(out)
    # the accountgesprek: the officer types an agreement into the workbook, as the README says, and saves it
    typed = out / "accountgesprek" / first[0]
    book = openpyxl.load_workbook(typed)
    (sheet, ref), = book.defined_names["kv_agenda"].destinations
    rows = book[sheet][ref.replace("$", "")]
    rows[1][[c.value for c in rows[0]].index("Afspraak")].value = "Intervisie elk kwartaal"
    book.save(typed)
    edited = typed.read_bytes()
    # a late return arrives; the audit runs again into the same folder, before `afspraken` was run
    shutil.copy(SAMPLES / "03_eemland-ambulante-gezinsbegeleiding.xlsx", inbox)
    result = audit(inbox, "-o", out)
    assert result.exit_code == 0, result.output
    assert typed.read_bytes() == edited  # the agreements are still there
    renamed = typed.name.replace(".xlsx", "_2.xlsx")
    assert len(workbooks(out)) == 4 and renamed in workbooks(out)
    assert f"{typed.name} is gewijzigd sinds de vorige controle" in result.output and renamed in result.output
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert f"accountgesprek/{typed.name}" not in manifest["bestanden"]  # the officer's now, never replaced or removed
    # an unchanged workbook of the tool is still replaced: a third run keeps exactly these names
    assert audit(inbox, "-o", out).exit_code == 0 and len(workbooks(out)) == 4
    # the kept workbook is still earlier output, never a return, when the folder lies in an inbox
    result = audit(tmp_path, "-o", tmp_path.parent / f"{tmp_path.name}-elders")
    assert result.exit_code == 0, result.output
    assert "3 opgaven gecontroleerd, 0 bestanden niet verwerkt" in result.output
    assert f"overgeslagen: uitvoer/accountgesprek/{typed.name} — Deze map is de uitvoer van een eerdere controle" in result.output

    # notes in the overview: the run stops rather than replace them
    overview = out / "overzicht.xlsx"
    book = openpyxl.load_workbook(overview)
    book.active["A1"] = "eerst Horizon bellen"
    book.save(overview)
    before = snapshot(out)
    result = audit(inbox, "-o", out)
    assert result.exit_code == 3 and "overzicht.xlsx" in result.output and "gewijzigd" in result.output
    assert snapshot(out) == before


def test_a_file_with_a_name_the_run_writes_but_that_it_did_not_write_is_refused(tmp_path):
    inbox = inbox_of(tmp_path)
    out = tmp_path / "uitvoer"
    out.mkdir()
    (out / "overzicht.xlsx").write_bytes(b"eigen overzicht")
    result = audit(inbox, "-o", out)
    assert result.exit_code == 3
    assert "al overzicht.xlsx, niet geschreven door een eerdere controle" in result.output
    assert snapshot(out) == {"overzicht.xlsx": b"eigen overzicht"}


def test_with_no_usable_return_and_two_jobs_every_file_it_names_is_there(tmp_path):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    (inbox / "notitie.txt").write_text("geen opgave")
    out = tmp_path / "uitvoer"
    result = audit(inbox, "-o", out, "--jobs", "2")
    assert result.exit_code == 1, result.output
    for line in result.output.splitlines():
        if line.startswith(("Overzicht:", "Bevindingen:")):
            assert Path(line.split(":", 1)[1].strip()).is_file()
    assert all((out / name).is_file() for name in RUN_FILES)
    assert json.loads((out / MANIFEST_FILE).read_text())["bestanden"] == sorted(RUN_FILES)


def test_a_failed_run_leaves_the_previous_run_whole(tmp_path):
    """A full disk (here: a file size limit) while the workbooks are written: the output
    folder still holds the previous run, byte for byte, and nothing of the failed one."""
    inbox = inbox_of(tmp_path)
    out = tmp_path / "uitvoer"
    assert audit(inbox, "-o", out).exit_code == 0
    before = snapshot(out)
    shutil.copy(SAMPLES / "03_eemland-ambulante-gezinsbegeleiding.xlsx", inbox)
    limit = "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))"
    done = subprocess.run(
        [sys.executable, "-c", f"{limit}; from kvcompliance.cli import run; run()", "audit", str(inbox), "-o", str(out), "--stil"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert done.returncode == 3, done.stderr
    assert "groter dan de schijf of het systeem toestaat" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(out) == before
    assert sorted(os.listdir(out)) == sorted([MANIFEST_FILE, "accountgesprek", *RUN_FILES])


# --------------------------------------------------------------------------- the swap and its journal
CRASHING_SWAP = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from kvcompliance.outputs import OutputFolder

    out, crash_at, files = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    folder = OutputFolder(out)
    folder.open()
    for rel in files:
        (folder.staging / rel).parent.mkdir(exist_ok=True)
        (folder.staging / rel).write_text("nieuw " + rel)
    real, calls = os.rename, [0]

    def rename(src, dst):
        calls[0] += 1
        if calls[0] == crash_at:
            os._exit(9)  # the process dies here: no cleanup, no roll back
        real(src, dst)

    os.rename = rename
    folder.commit()
    folder.close()
    print(calls[0])
    """
)


def _run_swap(out: Path, crash_at: int, files: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CRASHING_SWAP, str(out), str(crash_at), *files],
                          capture_output=True, text=True, cwd=ROOT)


def test_a_crash_anywhere_in_the_swap_is_rolled_back_by_the_next_run(tmp_path):
    out = tmp_path / "uitvoer"
    old_files = ["overzicht.xlsx", "bevindingen.csv", "accountgesprek/a.xlsx", "accountgesprek/b.xlsx"]
    new_files = ["overzicht.xlsx", "bevindingen.csv", "accountgesprek/b.xlsx", "accountgesprek/c.xlsx"]
    first = _run_swap(out, 0, old_files)
    assert first.returncode == 0, first.stderr
    (out / "eigen.txt").write_text("van de adviseur")
    previous = snapshot(out)
    shutil.copytree(out, tmp_path / "proef")
    renames = int(_run_swap(tmp_path / "proef", 0, new_files).stdout)  # how many renames this swap takes
    assert renames == 10  # 4 old files and the manifest out, 4 new ones and the manifest in
    for crash_at in range(1, renames + 1):
        crashed = _run_swap(out, crash_at, new_files)
        assert crashed.returncode == 9
        assert os.path.exists(out / JOURNAL_FILE)
        with OutputFolder(out):  # the next run: repairs before it does anything else
            assert {k: v for k, v in snapshot(out).items() if k != LOCK_FILE} == previous, f"crash at rename {crash_at}"
        assert snapshot(out) == previous
        assert sorted(os.listdir(out)) == sorted([MANIFEST_FILE, "accountgesprek", "bevindingen.csv", "eigen.txt", "overzicht.xlsx"])
    # a swap that fails in this process is rolled back at once, leaving nothing behind
    (out / "accountgesprek" / "c.xlsx").write_text("eigen bestand, verschenen tijdens de controle")
    with pytest.raises(OutputError, match="wordt niet overschreven"):
        with OutputFolder(out) as folder:
            for rel in new_files:
                (folder.staging / rel).parent.mkdir(exist_ok=True)
                (folder.staging / rel).write_text("nieuw " + rel)
            folder.commit()
    assert snapshot(out) == {**previous, "accountgesprek/c.xlsx": b"eigen bestand, verschenen tijdens de controle"}
    assert not [n for n in os.listdir(out) if n.startswith(".kvcompliance-")]  # no staging, no backup
    (out / "accountgesprek" / "c.xlsx").unlink()
    done = _run_swap(out, 0, new_files)
    assert done.returncode == 0
    now = snapshot(out)
    assert {k for k in now if not k.startswith(".")} == {*new_files, "eigen.txt"}
    assert now["accountgesprek/b.xlsx"] == b"nieuw accountgesprek/b.xlsx"


def test_staging_left_by_a_killed_run_is_removed_by_the_next(tmp_path):
    inbox = inbox_of(tmp_path, names=["01_stichting-jeugdhulp-de-kern.xlsx"])
    out = tmp_path / "uitvoer"
    (out / ".kvcompliance-nieuw-20250101-000000-abcdef" / "accountgesprek").mkdir(parents=True)
    (out / ".kvcompliance-nieuw-20250101-000000-abcdef" / "overzicht.xlsx").write_text("half")
    (out / ".kvcompliance-oud-20250101-000000-abcdef").mkdir()
    assert audit(inbox, "-o", out).exit_code == 0
    assert not [n for n in os.listdir(out) if n.startswith(".kvcompliance-")]


def test_a_manifest_cannot_make_the_tool_remove_other_files(tmp_path):
    out = tmp_path / "uitvoer"
    out.mkdir()
    (tmp_path / "buiten.txt").write_text("blijft")
    (out / "notities.txt").write_text("blijft")
    (out / MANIFEST_FILE).write_text(json.dumps(
        {"programma": "kvcompliance", "bestanden": ["../buiten.txt", "notities.txt", "/etc/hostname", "accountgesprek/../../buiten.txt"]}
    ))
    with OutputFolder(out) as folder:
        (folder.staging / "overzicht.xlsx").write_text("nieuw")
        folder.commit()
    assert (tmp_path / "buiten.txt").read_text() == "blijft"
    assert (out / "notities.txt").read_text() == "blijft"


# --------------------------------------------------------------------------- the lock
def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    inbox = inbox_of(tmp_path, names=["01_stichting-jeugdhulp-de-kern.xlsx"])
    out = tmp_path / "uitvoer"
    with OutputFolder(out):
        result = audit(inbox, "-o", out)
        assert result.exit_code == 3
        assert "loopt al een controle (proces" in result.output
        assert str(os.getpid()) in result.output
    assert not (out / LOCK_FILE).exists()
    assert audit(inbox, "-o", out).exit_code == 0


def test_a_lock_whose_process_is_gone_is_taken_over(tmp_path):
    out = tmp_path / "uitvoer"
    out.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (out / LOCK_FILE).write_text(json.dumps({"programma": "kvcompliance", "pid": gone.pid, "host": socket.gethostname()}))
    with OutputFolder(out) as folder:
        assert json.loads((out / LOCK_FILE).read_text())["pid"] == os.getpid()
        assert folder.staging.is_dir()
    assert not (out / LOCK_FILE).exists()


def test_a_lock_of_another_computer_is_respected(tmp_path):
    out = tmp_path / "uitvoer"
    out.mkdir()
    lock = json.dumps({"programma": "kvcompliance", "pid": 1, "host": "pc-van-een-collega", "sinds": "2026-01-05T09:30:00"})
    (out / LOCK_FILE).write_text(lock)
    with pytest.raises(OutputError, match="proces 1 op pc-van-een-collega, gestart 2026-01-05 09:30:00"):
        OutputFolder(out).open()
    assert (out / LOCK_FILE).read_text() == lock
    assert os.listdir(out) == [LOCK_FILE]


def test_the_output_folder_is_recognised_by_its_manifest_whatever_its_name(tmp_path):
    inbox = inbox_of(tmp_path, names=["01_stichting-jeugdhulp-de-kern.xlsx"])
    out = tmp_path / "wat-dan-ook"
    assert audit(inbox, "-o", out).exit_code == 0
    assert is_output_folder(out)
    assert not is_output_folder(inbox)
    (inbox / MANIFEST_FILE).write_text(json.dumps({"programma": "iets anders", "bestanden": []}))
    assert not is_output_folder(inbox)
    assert all(is_internal_name(n) for n in (MANIFEST_FILE, LOCK_FILE, JOURNAL_FILE, ".kvcompliance-nieuw-x"))
    assert not is_internal_name(".kvcompliance")


# --------------------------------------------------------------------------- inbox and output never touch
def _unchanged(inbox: Path, before: dict[str, bytes]) -> None:
    assert snapshot(inbox) == before


def test_an_output_folder_equal_to_the_inbox_is_refused_before_anything_is_read(tmp_path):
    inbox = inbox_of(tmp_path)
    before = snapshot(inbox)
    for spelling in (inbox, Path(f"{inbox}/"), inbox / ".." / "opgaven"):
        result = audit(inbox, "-o", spelling)
        assert result.exit_code == 3
        assert "is de map met opgaven zelf" in result.output
        assert f"bijvoorbeeld {tmp_path / 'opgaven-uitvoer'}." in result.output  # beside the returns, not among them
        assert "gecontroleerd" not in result.output
    link = tmp_path / "snelkoppeling"
    link.symlink_to(inbox)
    assert audit(inbox, "-o", link).exit_code == 3
    _unchanged(inbox, before)


def test_an_inbox_named_accountgesprek_audited_into_its_parent_is_refused(tmp_path):
    parent = tmp_path / "werk"
    inbox = inbox_of(tmp_path, where=parent / "accountgesprek")
    before = snapshot(inbox)
    result = audit(inbox, "-o", parent)
    assert result.exit_code == 3
    assert "dat de controle zelf schrijft en vervangt" in result.output
    _unchanged(inbox, before)
    assert sorted(os.listdir(parent)) == ["accountgesprek"]


def test_an_inbox_inside_the_output_folder_is_read_and_left_alone(tmp_path, monkeypatch):
    inbox = inbox_of(tmp_path)
    before = snapshot(inbox)
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        result = audit("opgaven", "-o", ".")
        assert result.exit_code == 0, result.output
        assert "2 opgaven gecontroleerd, 0 bestanden niet verwerkt" in result.output
    _unchanged(inbox, before)
    assert len(workbooks(tmp_path)) == 2


def test_an_output_folder_inside_the_inbox_is_never_read_and_the_inputs_stay(tmp_path):
    inbox = inbox_of(tmp_path)
    before = snapshot(inbox)
    for _ in range(2):
        result = audit(inbox, "-o", inbox / "uitvoer")
        assert result.exit_code == 0, result.output
        assert "2 opgaven gecontroleerd, 0 bestanden niet verwerkt" in result.output
    assert {k: v for k, v in snapshot(inbox).items() if not k.startswith("uitvoer/")} == before


def test_an_earlier_output_in_the_inbox_is_not_read_as_returns_whatever_its_name(tmp_path):
    """Its workbooks would otherwise 'replace' the real returns (same contract, newer)."""
    inbox = inbox_of(tmp_path)
    assert audit(inbox, "-o", inbox / "controle-vorige-week").exit_code == 0
    shutil.copy(SAMPLES / "03_eemland-ambulante-gezinsbegeleiding.xlsx", inbox / "controle-vorige-week" / "nagekomen.xlsx")
    before = snapshot(inbox)
    result = audit(inbox, "-o", tmp_path / "uitvoer")
    assert result.exit_code == 0, result.output
    assert "3 opgaven gecontroleerd, 0 bestanden niet verwerkt" in result.output  # the officer's own file is read
    assert snapshot(inbox) == before


def test_the_library_refuses_too(tmp_path):
    from kvcompliance.audit import run_audit, write_reports

    parent = tmp_path / "werk"
    inbox = inbox_of(tmp_path, where=parent / "accountgesprek")
    before = snapshot(inbox)
    result = run_audit(inbox)
    with pytest.raises(OutputError, match="zelf schrijft en vervangt"):
        write_reports(result, parent)
    _unchanged(inbox, before)


# --------------------------------------------------------------------------- permissions and plain Dutch
@pytest.mark.parametrize(("umask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o007, 0o770, 0o660)])
def test_output_gets_ordinary_permissions_that_follow_the_umask(tmp_path, umask, folder_mode, file_mode):
    inbox = inbox_of(tmp_path)
    out = tmp_path / "uitvoer"
    old = os.umask(umask)
    try:
        assert audit(inbox, "-o", out, "--jobs", "2").exit_code == 0
    finally:
        os.umask(old)
    folders = [out, out / "accountgesprek"]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == len(RUN_FILES) + 2 + 1  # the manifest too
    assert {oct(p.stat().st_mode & 0o777) for p in folders} == {oct(folder_mode)}
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(file_mode)}


def test_an_output_path_through_a_file_is_refused_in_plain_dutch(tmp_path):
    inbox = inbox_of(tmp_path, names=["01_stichting-jeugdhulp-de-kern.xlsx"])
    (tmp_path / "bestand").write_text("x")
    result = audit(inbox, "-o", tmp_path / "bestand" / "uitvoer")
    assert result.exit_code == 3
    assert "een deel van het pad is geen map" in result.output
    assert "Not a directory" not in result.output
    result = audit(inbox, "-o", tmp_path / ("x" * 300))
    assert result.exit_code == 3
    assert "kan niet worden gemaakt: de naam is te lang" in result.output


def test_a_full_disk_while_a_workbook_is_saved_gives_no_traceback(tmp_path):
    """A disk that fills up while a workbook is saved is one Dutch error, not an
    'Exception ignored ... Traceback' from a half-closed zip file on stderr."""
    import subprocess
    import sys

    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from kvcompliance.errors import OutputError\n"
        "from kvcompliance.report.xlsx import new_workbook\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))  # a disk with 20 kB free\n"
        "for streamed in (False, True):\n"
        "    try:\n"
        f"        with new_workbook(Path({str(tmp_path)!r}) / 'groot.xlsx', streamed=streamed) as book:\n"
        "            sheet = book.add_worksheet('Blad')\n"
        "            for row in range(3000):\n"
        "                sheet.write_string(row, 0, f'regel {row} ' + 'x' * (row % 50))\n"
        "    except OutputError as exc:\n"
        "        print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.count("Kan groot.xlsx niet schrijven") == 2, done.stdout
    assert done.stderr == ""
    assert not (tmp_path / "groot.xlsx").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_the_log_of_an_output_folder_inside_the_inbox_names_only_what_is_there(tmp_path):
    """This run's own lock and staging folder inside the output folder are gone when the
    run ends; the log must not list them as inbox entries."""
    import json

    inbox = inbox_of(tmp_path)
    for _ in range(2):
        result = audit(inbox, "-o", inbox / "uitvoer")
        assert result.exit_code == 0, result.output
        assert "uitvoer/.kvcompliance-nieuw" not in result.output
        assert "uitvoer/.kvcompliance.lock" not in result.output
    log = [json.loads(line) for line in (inbox / "uitvoer" / "verwerking.jsonl").read_text(encoding="utf-8").splitlines()]
    missing = [entry["bestand"] for entry in log if not (inbox / entry["bestand"]).exists()]
    assert missing == []
