"""The throttled learner benchmark (scripts/bench/learner_throttled.py): its arguments and
figures, and one quick run in real Chromium that gives every figure of its JSON last line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.bench import learner_throttled as bench
from tests.conftest import need

SCRIPT = Path(bench.__file__)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def test_defaults_are_the_issues_phone_and_link() -> None:
    args = bench.parse_args([])
    assert (args.learners, args.rounds, args.cpu, args.latency_ms, args.kbps) == (5, 3, 4, 400, 400)
    assert args.modes == ("sw_on", "sw_off")
    assert bench.Link(4, 400, 400).conditions() == {
        "offline": False, "latency": 400, "downloadThroughput": 50_000, "uploadThroughput": 50_000}
    assert bench.Link(4, 400, 400).conditions(offline=True)["offline"] is True


@pytest.mark.parametrize("argv, message", [
    (["--learners", "0"], "--learners must be 1..30"),
    (["--rounds", "0"], "--rounds must be 1..20"),
    (["--kbps", "0"], "--kbps more than 0"),
    (["--offline-items", "11"], "--offline-items must be 1..10"),
    (["--modes", "sw_maybe"], "--modes is sw_on, sw_off or both"),
])
def test_bad_arguments_say_what_is_wrong(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        bench.parse_args(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_the_demo_learners_come_from_both_classes_in_turn() -> None:
    logins = {"classes": [
        {"id": 1, "kind": "picture", "learners": [{"id": 4, "name": "A", "secret": ["sun"]},
                                                   {"id": 5, "name": "B", "secret": ["car"]}]},
        {"id": 2, "kind": "pin", "learners": [{"id": 9, "name": "C", "secret": "1234"}]}]}
    people = [(p["name"], p["kind"]) for p in bench.people_of(logins)]
    assert people == [("A", "picture"), ("C", "pin"), ("B", "picture")]


def test_figures_are_medians_and_maxima_over_learners_and_rounds() -> None:
    bundle = {"pages": 50_000, "files": 100_000, "count": 12, "whole": 200_000, "entries": 30}
    runs = [
        bench.Run("sw_on", 1, "A", signin=1000, signin_again=900, online=[500, 520], offline=[30, 40],
                  offline_next=[200], keep_ahead=9000, bundle=bundle, upcoming=10, probe=420),
        bench.Run("sw_on", 2, "B", signin=1200, signin_again=950, online=[560], offline=[50], offline_next=[220],
                  keep_ahead=11_000, bundle=dict(bundle, files=140_000), upcoming=10, probe=430),
        bench.Run("sw_off", 1, "C", signin=1100, online=[540], offline=[45], problems=["no practice item reached"]),
    ]
    figures = bench.summary(runs, rounds=2)
    on, off = figures["sw_on"], figures["sw_off"]
    assert on["signin_to_path_ms_p50"] == 1100 and on["signin_to_path_ms_max"] == 1200
    assert on["check_to_feedback_online_ms_p50"] == 520 and on["check_to_feedback_online_count"] == 3
    assert on["check_to_feedback_offline_ms_p50_by_round"] == [35, 50]
    assert off["signin_again_to_path_ms_p50"] is None and off["signin_again_to_path_count"] == 0
    assert "offline_next_to_item_ms_p50" not in off and off["check_to_feedback_offline_ms_p50_by_round"] == [45, None]
    assert off["problems"] == ["C (round 1): no practice item reached"]
    assert figures["offline_activities"] == 10
    assert figures["offline_bundle_bytes"] == 170_000 and figures["offline_bundle_bytes_max"] == 190_000
    assert figures["worker_request_probe_ms_p50"] == 425


@pytest.mark.browser
@pytest.mark.slow
def test_one_learner_in_real_chromium_gives_every_figure() -> None:
    need(Path(CHROMIUM).exists() or bool(shutil.which("chromium")), f"Chromium is not installed at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # pragma: no cover
        need(False, "the playwright package is not installed")
    chromium = CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    done = subprocess.run([sys.executable, str(SCRIPT), "--learners", "1", "--rounds", "1", "--offline-items", "2",
                           "--chromium", chromium], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for mode in ("sw_on", "sw_off"):
        for wait in ("signin_to_path", "signin_again_to_path", "check_to_feedback_online", "check_to_feedback_offline"):
            assert figures[mode][f"{wait}_ms_p50"] > 0, (mode, wait, figures[mode]["problems"])
        assert figures[mode]["problems"] == []
    assert figures["sw_on"]["offline_next_to_item_ms_p50"] > 0
    assert figures["offline_activities"] == 10, "the hub's setting: ten activities kept"
    assert figures["offline_bundle_bytes"] > 0 and figures["cache_storage_bytes"] >= figures["offline_bundle_bytes"]
    assert figures["worker_request_probe_ms_p50"] >= 400, "the service worker's own requests are throttled too"
