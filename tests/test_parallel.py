"""Parallel work: order kept, and a worker that dies on one item loses nothing."""

from __future__ import annotations

import os

from kvcompliance.parallel import ordered_map


def _square(x: int) -> int:
    return x * x


def _die_on_13(x: int) -> int:
    if x == 13:
        os._exit(134)  # what a native abort looks like from Python: the process is gone
    return x * x


def test_results_come_back_in_input_order_for_any_number_of_jobs():
    items = list(range(100))
    assert list(ordered_map(_square, items, 1)) == list(ordered_map(_square, items, 2)) == [x * x for x in items]


def test_an_item_that_kills_its_worker_is_reported_and_the_rest_is_done():
    items = list(range(40))
    done = []
    results = list(ordered_map(_die_on_13, items, 2, on_crash=lambda x: f"kapot {x}", on_done=done.append))
    assert results == [f"kapot {x}" if x == 13 else x * x for x in items]
    assert sum(done) == 40


def test_isolated_work_survives_a_dying_item_even_with_one_job():
    results = list(ordered_map(_die_on_13, [12, 13, 14], 1, on_crash=lambda x: None, isolate=True))
    assert results == [144, None, 196]
