"""KV10 is fair to small providers and honest about estimates (DOMAIN §5.4).

The statuses come from the real rule (one ``evaluate`` over every possible count at every
expectation); the chance of each status for a provider whose true rate is some λ is then
computed exactly from the Poisson distribution, and checked once more by simulating counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kvcompliance.catalogue import Status, load_catalogue
from kvcompliance.normalise import typed_frame
from kvcompliance.validate import evaluate
from tests.test_validate import BASE, _records

AGREED_GRID = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0, 50.0, 80.0)
#: Estimates as clienten_minderjarig for a jeugdhulp provider (λ = n × 0,03 × 0,5).
ESTIMATE_CHILDREN = (100, 134, 200, 300, 400, 534, 667, 800, 934, 1067, 1334, 2000, 3334, 6667)


def _statuses(specs: list[tuple[float | None, int, int]]) -> list[Status]:
    """KV10 for each (agreed expectation or None, clienten_minderjarig, signals)."""
    catalogue = load_catalogue()
    rows = [{**BASE, "clienten_minderjarig": n, "meldingen_veilig_thuis": x, "adviesvragen_veilig_thuis": 0,
             "signalen_verwijsindex": 0} for _, n, x in specs]
    frame, issues = typed_frame(_records(rows), catalogue)
    frame["verwacht_aantal_signalen"] = pd.Series([a for a, _, _ in specs], index=frame.index, dtype="Float64")
    evaluation = evaluate(frame, issues, catalogue, 2025)
    return list(evaluation.statuses["KV10"])


def _pmf(x: int, lam: float) -> float:
    return math.exp(x * math.log(lam) - lam - math.lgamma(x + 1))


def _top(lam: float) -> int:
    return int(lam + 12 * math.sqrt(lam) + 12)


@pytest.fixture(scope="module")
def agreed():
    specs = [(lam, 400, x) for lam in AGREED_GRID for x in range(_top(lam))]
    statuses = _statuses(specs)
    table: dict[float, dict[int, Status]] = {}
    for (lam, _, x), status in zip(specs, statuses):
        table.setdefault(lam, {})[x] = status
    return table


@pytest.fixture(scope="module")
def estimated():
    specs = [(None, n, x) for n in ESTIMATE_CHILDREN for x in range(_top(n * 0.015))]
    statuses = _statuses(specs)
    table: dict[float, dict[int, Status]] = {}
    for (_, n, x), status in zip(specs, statuses):
        table.setdefault(n * 0.015, {})[x] = status
    return table


def _chance(table: dict[int, Status], true_rate: float, statuses: set[Status]) -> float:
    return sum(_pmf(x, true_rate) for x, status in table.items() if status in statuses)


def test_an_agreed_expectation_met_on_average_is_rarely_rood_or_oranje(agreed):
    """A provider whose true rate equals the agreed λ: rood < 5%, oranje-or-rood < 10%, at any λ."""
    for lam, table in agreed.items():
        rood = _chance(table, lam, {Status.ROOD})
        flagged = _chance(table, lam, {Status.ROOD, Status.ORANJE})
        assert rood < 0.05, (lam, rood)
        assert flagged < 0.10, (lam, flagged)
        assert table[0] == Status.ROOD or lam < 3 or _pmf(0, lam) > 0.05  # zero signals against a real agreement


def test_an_estimate_is_never_rood_and_30_percent_too_high_gives_oranje_at_most_a_quarter_of_the_time(estimated):
    worst = 0.0
    for lam, table in estimated.items():
        assert Status.ROOD not in table.values(), lam
        oranje = _chance(table, lam / 1.3, {Status.ORANJE})
        worst = max(worst, oranje)
        assert oranje <= 0.27, (lam, oranje)
        assert _chance(table, lam, {Status.ORANJE}) < 0.05, lam  # a correct estimate: oranje under 5%
    assert worst > 0.15  # the bound is close: the table is not trivially empty


def test_simulated_counts_agree_with_the_exact_chances(agreed, estimated):
    rng = np.random.default_rng(2025)
    for lam in (3.0, 12.0, 30.0):
        table = agreed[lam]
        counts = rng.poisson(lam, 20_000)
        simulated = np.mean([table.get(int(x), Status.GROEN) in (Status.ROOD, Status.ORANJE) for x in counts])
        exact = _chance(table, lam, {Status.ROOD, Status.ORANJE})
        assert simulated < 0.10 and abs(simulated - exact) < 4 * math.sqrt(exact * (1 - exact) / 20_000) + 1e-3
    lam = 12 * 1.0005  # 800 children: an estimate of 12
    table = estimated[800 * 0.015]
    counts = rng.poisson(lam / 1.3, 20_000)
    simulated = np.mean([table.get(int(x), Status.GROEN) == Status.ORANJE for x in counts])
    assert simulated <= 0.27


def kv10_figures() -> str:
    """The guarantees as figures (``python -m tests.test_kv10``), for the closing note."""
    import tests.test_kv10 as me

    agreed_specs = [(lam, 400, x) for lam in AGREED_GRID for x in range(_top(lam))]
    estimate_specs = [(None, n, x) for n in ESTIMATE_CHILDREN for x in range(_top(n * 0.015))]
    statuses = me._statuses(agreed_specs + estimate_specs)
    tables: dict[tuple[str, float], dict[int, Status]] = {}
    for (a, n, x), status in zip(agreed_specs + estimate_specs, statuses):
        key = ("afgesproken", a) if a is not None else ("geschat", n * 0.015)
        tables.setdefault(key, {})[x] = status
    lines = ["soort        λ      rood    oranje+rood   (echte rate = λ; geschat ook: rate = λ/1,3)"]
    for (kind, lam), table in tables.items():
        rood = _chance(table, lam, {Status.ROOD})
        flagged = _chance(table, lam, {Status.ROOD, Status.ORANJE})
        extra = f"   λ/1,3: oranje {_chance(table, lam / 1.3, {Status.ORANJE}):.3f}" if kind == "geschat" else ""
        lines.append(f"{kind:<12} {lam:6.2f}  {rood:.3f}   {flagged:.3f}{extra}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(kv10_figures())
