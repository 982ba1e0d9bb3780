"""The kinds of inbox entries skipped on purpose, and their Dutch reasons."""

from __future__ import annotations

import os
import stat

from kvcompliance.catalogue import skipped
from kvcompliance.catalogue.skipped import KINDS, SPECIAL_KINDS, skip_catalogue, skip_reason, special_kind


def test_every_kind_the_code_names_has_a_reason_and_no_other_is_declared():
    catalogue = skip_catalogue()
    assert set(catalogue.kinds) == set(KINDS)
    assert set(catalogue.special) == set(SPECIAL_KINDS)
    for kind in catalogue.kinds.values():
        assert kind.title and kind.reason.endswith(".")


def test_reasons_are_filled_in():
    assert skip_reason(skipped.LINK, doel="/etc/passwd") == (
        "Een snelkoppeling naar /etc/passwd; niet gevolgd, zodat alleen wat echt in de map staat wordt gelezen. "
        "Zet het bestand zelf in de map als het een opgave is."
    )
    assert skip_reason(skipped.SPECIAL, wat=special_kind(stat.S_IFIFO)) == "Geen gewoon bestand maar een pipe (FIFO); niet gelezen."


def test_a_fifo_is_recognised(tmp_path):
    os.mkfifo(tmp_path / "pijp")
    assert special_kind(os.lstat(tmp_path / "pijp").st_mode) == "een pipe (FIFO)"
