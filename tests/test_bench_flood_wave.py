"""Smoke runs of the flood and wave benchmarks (bench/stress.py): tiny numbers, but the real
bot process against the real benchmark drivers, so a change to the flows they walk (buttons,
wizard steps, texts) shows here rather than as a benchmark that measures nothing."""

from __future__ import annotations

import argparse

from bench import stress
from bench.cli import demo_invite
from bench.common import CHILDREN
from bench.wave_driver import WIZARD


def _opts(**values: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "invite": demo_invite(), "latency_ms": 20.0, "max_concurrent": None, "profile": None,
        "keep_logs": False, "flood_rate": 50.0, "flood_window": 100, "flood_residents": 6,
        "wave_audience": 5,
    }
    return argparse.Namespace(**{**base, **values})


async def test_flood_run_times_every_resident_while_the_bot_takes_the_whole_flood() -> None:
    try:
        r = await stress._flood_run(_opts(), "flooded", 150, deadline=30.0)
    finally:
        await CHILDREN.stop_all()
    assert "error" not in r, r.get("error")
    assert r["finished"] and r["answered"] == r["updates_total"] == 6 * 5
    assert r["latency_ms"]["n"] == 30 and 0 < r["latency_ms"]["p99"] < 30_000
    flood = r["flood"]
    assert flood["pushed"] == flood["fetched"] == 150  # all of it went to the bot
    assert flood["fetch_s"] is not None and flood["messages_to_flooder"] > 0


async def test_wave_run_measures_both_delays_while_residents_join() -> None:
    try:
        r = await stress._wave_run(_opts(), "wave", 12, 1.5, 0.5)
    finally:
        await CHILDREN.stop_all()
    assert "error" not in r, r.get("error")
    assert r["joined"] == 12 and r["answered"] == 36
    assert r["wizard_ms"]["n"] == len(WIZARD)
    assert r["notice_id"] is not None and not r["approved_from_list"]
    assert 0 < r["submit_to_request_s"] < 30 and 0 < r["approve_to_first_s"] < 30
    # the notice reached the RT's residents (5 seeded) and not the coordinator or moderator
    assert 1 <= r["reached"] <= 5 + 12
