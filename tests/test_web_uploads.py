"""Uploads of the web app: names the server chooses, zip files unpacked with the reader's guards."""

from __future__ import annotations

import asyncio
import os
import time
import zipfile
from pathlib import Path

import pytest

from kvcompliance.web.uploads import (
    Limits,
    Outcome,
    UploadRefused,
    place,
    receive,
    safe_name,
    skip_reason,
    temp_path,
    unpack_zip,
)
from kvcompliance.web.workspace import Workspace

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RETURN = FIXTURES / "opgave.xlsx"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("opgave.xlsx", "opgave.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\inkoop\\Documents\\opgave 2025.xlsx", "opgave 2025.xlsx"),
        ("map/sub/opgave.xlsx", "opgave.xlsx"),
        ("con.xlsx", "_con.xlsx"),
        ("LPT1", "_LPT1"),
        ("naam\x00met\x1fstuurtekens.xlsx", "naam_met_stuurtekens.xlsx"),
        ('a<b>c:d"e|f?g*.xlsx', "a_b_c_d_e_f_g_.xlsx"),
        ("...", "bestand"),
        ("", "bestand"),
        ("Zorg & Welzijn Café.xlsx", "Zorg & Welzijn Café.xlsx"),
    ],
)
def test_a_stored_name_is_a_plain_safe_name(sent, stored):
    assert safe_name(sent) == stored


def test_a_long_name_keeps_its_suffix():
    name = safe_name("x" * 400 + ".xlsx")
    assert name.endswith(".xlsx") and len(name) <= 150


@pytest.mark.parametrize("sent", ["~$opgave.xlsx", "Thumbs.db", "desktop.ini", ".DS_Store", ".verborgen.xlsx"])
def test_files_the_reader_skips_are_refused_with_a_reason(sent):
    reason = skip_reason(sent)
    assert reason is not None and reason.startswith(f"{sent} is niet toegevoegd")


def _received(tmp_path: Path, data: bytes, limit: int) -> tuple[Path, str]:
    async def chunks():
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    target = temp_path(tmp_path)
    digest = asyncio.run(receive(chunks(), target, limit, "opgave.xlsx"))
    return target, digest


def test_an_upload_over_the_limit_is_refused_in_dutch_and_nothing_is_left(tmp_path):
    with pytest.raises(UploadRefused, match="opgave.xlsx is niet toegevoegd: het bestand is groter dan"):
        _received(tmp_path, b"x" * 5000, 4000)
    assert list(tmp_path.iterdir()) == []


def test_the_same_file_twice_is_stored_once_and_another_file_of_that_name_beside_it(tmp_path):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    outcome = Outcome()
    for data, modified in ((b"een", 1_600_000_000.0), (b"een", None), (b"twee", None)):
        tmp, digest = _received(inbox, data, 100)
        place(tmp, inbox, "sub/opgave.xlsx", digest, modified, 10, outcome)
    assert outcome.added == ["opgave.xlsx", "opgave (2).xlsx"]
    assert outcome.present == ["opgave.xlsx"]
    assert (inbox / "opgave.xlsx").read_bytes() == b"een"
    assert (inbox / "opgave.xlsx").stat().st_mtime == 1_600_000_000.0  # the browser's lastModified
    assert sorted(p.name for p in inbox.iterdir()) == ["opgave (2).xlsx", "opgave.xlsx"]


def test_an_audit_holds_no_more_files_than_the_limit(tmp_path):
    outcome = Outcome()
    for n in range(3):
        tmp, digest = _received(tmp_path, str(n).encode(), 100)
        place(tmp, tmp_path, f"{n}.xlsx", digest, None, 2, outcome)
    assert outcome.added == ["0.xlsx", "1.xlsx"]
    assert outcome.refused == [("2.xlsx", "2.xlsx is niet toegevoegd: een controle kan hoogstens 2 bestanden bevatten."
                                          " Begin voor de rest een tweede controle.")]
    assert len(list(tmp_path.iterdir())) == 2


def _zip(path: Path, members: dict[str, bytes], encrypted: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 3, 14, 9, 26, 52))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    if encrypted:  # mark members as encrypted (zipfile cannot write encryption), in both headers
        raw = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            offsets = [archive.getinfo(name).header_offset for name in encrypted]
        for offset in offsets:
            raw[offset + 6] |= 0x1
        at = raw.find(b"PK\x01\x02")
        while at >= 0:
            length = int.from_bytes(raw[at + 28 : at + 30], "little")
            if raw[at + 46 : at + 46 + length].decode() in encrypted:
                raw[at + 8] |= 0x1
            at = raw.find(b"PK\x01\x02", at + 46)
        path.write_bytes(bytes(raw))
    return path


def test_a_zip_of_returns_is_unpacked_flat_and_every_member_is_accounted_for(tmp_path):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    data = RETURN.read_bytes()
    archive = _zip(tmp_path / "opgaven.zip", {
        "opgaven/jeugd/opgave.xlsx": data,
        "opgaven/wmo/opgave.xlsx": data + b"anders",  # another file of the same name
        "opgaven/leeg/": b"",
        "../../buiten.xlsx": data,
        "/etc/cron.d/buiten": b"x",
        "C:/Windows/buiten.xlsx": b"x",
        "opgaven/~$opgave.xlsx": b"lock",
        "__MACOSX/opgaven/._opgave.xlsx": b"mac",
        "opgaven/beveiligd.xlsx": data,
    }, encrypted=("opgaven/beveiligd.xlsx",))
    outcome = unpack_zip(archive, "opgaven.zip", inbox, Limits())
    assert outcome.added == ["opgave.xlsx", "opgave (2).xlsx"]
    assert sorted(p.name for p in inbox.iterdir()) == ["opgave (2).xlsx", "opgave.xlsx"]
    assert (inbox / "opgave.xlsx").read_bytes() == data
    reasons = dict(outcome.refused)
    assert reasons["../../buiten.xlsx"].endswith("niet uitgepakt: het pad wijst buiten het zip-bestand.")
    assert "buiten het zip-bestand" in reasons["/etc/cron.d/buiten"]
    assert "buiten het zip-bestand" in reasons["C:/Windows/buiten.xlsx"]
    assert "tijdelijk bestand" in reasons["opgaven/~$opgave.xlsx"]
    assert "met een wachtwoord beveiligd" in reasons["opgaven/beveiligd.xlsx"]
    assert len(outcome.refused) == 5  # the folder entry and the macOS extra are no files
    assert not (tmp_path / "buiten.xlsx").exists()
    expected = time.mktime((2025, 3, 14, 9, 26, 52, 0, 0, -1))
    assert (inbox / "opgave.xlsx").stat().st_mtime == expected  # the date in the zip


def test_a_zip_bomb_and_a_zip_of_too_many_members_are_refused_whole(tmp_path):
    inbox = tmp_path / "opgaven"
    inbox.mkdir()
    bomb = _zip(tmp_path / "bom.zip", {"groot.xlsx": b"\0" * (30 * 1024 * 1024)})
    outcome = unpack_zip(bomb, "bom.zip", inbox, Limits())
    assert outcome.added == []
    assert outcome.refused == [("bom.zip", "bom.zip is niet uitgepakt: het is te groot om veilig uit te pakken"
                                           " (hoogstens 10.000 bestanden en 200 MB uitgepakt).")]
    many = _zip(tmp_path / "veel.zip", {f"{n}.csv": b"" for n in range(10_001)})
    assert unpack_zip(many, "veel.zip", inbox, Limits()).refused[0][1].startswith("veel.zip is niet uitgepakt: het is te groot")
    broken = tmp_path / "kapot.zip"
    broken.write_bytes(b"PK\x03\x04 geen zip")
    assert unpack_zip(broken, "kapot.zip", inbox, Limits()).refused == [
        ("kapot.zip", "kapot.zip is niet uitgepakt: het is beschadigd of geen zip-bestand.")
    ]
    assert list(inbox.iterdir()) == []


def test_a_member_larger_than_a_return_may_be_is_not_unpacked(tmp_path):
    archive = _zip(tmp_path / "a.zip", {"groot.xlsx": os.urandom(3000), "klein.xlsx": b"klein"})
    outcome = unpack_zip(archive, "a.zip", tmp_path, Limits(file_bytes=2000))
    assert outcome.added == ["klein.xlsx"]
    assert outcome.refused[0][1].startswith("groot.xlsx is niet toegevoegd: het bestand is groter dan")


def test_a_choice_is_looked_up_never_joined_to_a_path(tmp_path):
    workspace = Workspace(tmp_path)
    (tmp_path / "kvcompliance.toml").write_text("[afzender]\nnaam = 'Regio'\n", encoding="utf-8")
    audit = workspace.create(2025)
    assert [c.id for c in workspace.choices("instellingen")] == ["werkmap:kvcompliance.toml"]
    assert workspace.choice("instellingen", "werkmap:../../etc/passwd") is None
    assert workspace.choice("instellingen", "werkmap:kvcompliance.toml").path == tmp_path / "kvcompliance.toml"
    assert workspace.audit("../controles") is None and workspace.audit(audit.id).year == 2025
    assert workspace.create(2025).id == "controle-2025-2"
