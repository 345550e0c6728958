"""The pure parts of the load benchmarks (scripts/bench/load.py, scripts/bench/kolibri/side_by_side.py):
arguments, the figures made from recorded requests, and the JSON last line. No server, no timing."""

from __future__ import annotations

import json

import pytest

from scripts.bench import load
from scripts.bench.kolibri import side_by_side


def test_defaults_and_a_slow_board_run_parse() -> None:
    args = load.parse_args([])
    assert (args.learners, args.seconds, args.think, args.cpu_quota, args.no_pin) == (40, 60, (1.0, 3.0), None, False)
    args = load.parse_args(["--learners", "200", "--seconds", "20", "--think", "0", "--cpu-quota", "10"])
    assert (args.learners, args.seconds, args.think, args.cpu_quota) == (200, 20, (0.0, 0.0), 10)


@pytest.mark.parametrize("argv, message", [
    (["--learners", "0"], "--learners must be 1..500"),
    (["--learners", "501"], "--learners must be 1..500"),
    (["--seconds", "0"], "--seconds must be more than 0"),
    (["--cpu-quota", "0"], "--cpu-quota is a share of one core"),
    (["--cpu-quota", "150"], "--cpu-quota is a share of one core"),
    (["--think", "3-1"], "think time is SECONDS or MIN-MAX"),
    (["--right", "2"], "--right must be between 0 and 1"),
])
def test_bad_arguments_say_what_is_wrong(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        load.parse_args(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_a_timeline_keeps_when_each_request_ended() -> None:
    stats = load.TimedStats(10)
    stats.latency["GET x"].append(0.5)
    stats.latency["GET x"].append(0.25)
    (first, second) = stats.spans()["GET x"]
    assert first[1] == 0.5 and second[1] == 0.25
    assert first[0] + 0.5 <= second[0] + 0.25  # the second ended after the first


def spans() -> dict[str, list[tuple[float, float]]]:
    """Three learners: a sign-in each at 0 s, their first My path at 10 s (the burst, slow), then
    steady pages and answers."""
    return {
        "login POST": [(0.0, 1.0), (0.0, 1.5), (0.0, 2.0)],
        load.MY_PATH: [(10.0, 0.9), (10.0, 1.0), (10.0, 1.1), (14.0, 0.1), (15.0, 0.1)],
        "POST answer": [(12.0, 0.05), (13.0, 0.05), (16.0, 0.05)],
    }


def test_the_burst_ends_with_the_last_learners_first_page() -> None:
    assert load.burst_end(spans(), load.MY_PATH, 3, since=10.0) == pytest.approx(11.1)
    assert load.burst_end(spans(), load.MY_PATH, 4, since=10.0) == pytest.approx(14.1)
    assert load.burst_end(spans(), load.MY_PATH, 6, since=10.0) is None  # fewer first pages than learners
    assert sorted(load.between(spans(), 11.1)) == pytest.approx([0.05, 0.05, 0.05, 0.1, 0.1])


def test_percentiles_per_endpoint_count_only_the_load_phase() -> None:
    table = load.endpoint_table(spans(), {"POST answer": 1}, start=10.0, seconds=10.0)
    assert list(table) == [load.MY_PATH, "POST answer"]
    assert table[load.MY_PATH]["count"] == 5 and table[load.MY_PATH]["per_s"] == 0.5
    assert table[load.MY_PATH]["p50_ms"] == 900.0 and table[load.MY_PATH]["max_ms"] == 1100.0
    assert table["POST answer"]["errors"] == 1
    assert load.latency_summary([]) == {"count": 0, "per_s": None, "p50_ms": None, "p95_ms": None,
                                        "p99_ms": None, "max_ms": None}


def test_a_class_run_gives_every_figure_of_the_json_line() -> None:
    run = load.ClassRun(
        learners=3, storm_started=0.0, load_started=10.0, load_ended=20.0, storm_logins=[1.0, 1.5, 2.0],
        storm_failures=0, storm_cpu_s=0.3, load_cpu_s=0.8, loadgen_cpu_s=0.5, rss_peak_kb=60 * 1024, stuck=0,
        spans=spans(), errors={}, requests=8)
    figures = load.class_figures(run)
    assert figures["requests"] == 8 and figures["answers"] == 3
    assert figures["requests_per_s"] == 0.8 and figures["answers_per_s"] == 0.3
    assert figures["cpu_ms_per_request"] == 100.0 and figures["cpu_ms_per_answer"] == pytest.approx(266.67)
    assert figures["burst_s"] == pytest.approx(1.1)
    assert figures["p95_after_burst_ms"] == 100.0  # the slow burst left out
    assert figures["p95_whole_run_ms"] == 2000.0  # the storm's sign-ins counted
    assert figures["login_storm_s"] == 10.0 and figures["rss_mb"] == 60.0
    line = load.json_line({"learners": 3, **figures})
    assert "\n" not in line
    parsed = json.loads(line)
    for key in ("learners", "requests_per_s", "answers_per_s", "cpu_ms_per_answer", "p50_ms", "p95_ms", "p99_ms",
                "errors", "rss_mb"):
        assert key in parsed


def test_side_by_side_arguments_and_ratios() -> None:
    args = side_by_side.parse_args(["--seconds", "15", "--kolibri-venv", "/nowhere"])
    assert args.seconds == 15 and args.learners == 40 and args.think == (1.0, 3.0)
    with pytest.raises(SystemExit):
        side_by_side.parse_args(["--learners", "100"])
    assert side_by_side.ratio(10, 40) == 0.25
    assert side_by_side.ratio(None, 40) is None and side_by_side.ratio(10, 0) is None
    assert [s.name for s in side_by_side.SCENARIOS if s.ours is None] == ["heartbeat"]  # Kolibri's only


def test_the_comparison_puts_ours_over_kolibri() -> None:
    server = {"start_s": 1.0, "rss_idle_mb": 50.0, "rss_after_warmup_mb": 60.0, "rss_peak_mb": 60.0,
              "scenarios": {"home": {"requests_per_s": 60.0, "p95_ms": 100.0}}}
    kolibri = {"start_s": 2.0, "rss_idle_mb": 100.0, "rss_after_warmup_mb": 120.0, "rss_peak_mb": 240.0,
               "scenarios": {"home": {"requests_per_s": 20.0, "p95_ms": 400.0},
                             "heartbeat": {"requests_per_s": 50.0}}}
    table = side_by_side.comparison({"ours": server, "kolibri": kolibri})
    assert table["rss_peak_mb"] == {"ours": 60.0, "kolibri": 240.0, "ratio": 0.25}
    assert table["home.requests_per_s"]["ratio"] == 3.0 and table["home.p95_ms"]["ratio"] == 0.25
    assert table["heartbeat.requests_per_s"] == {"ours": None, "kolibri": 50.0, "ratio": None}
