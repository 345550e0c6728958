"""The evaluation scripts run end to end on tiny synthetic data and end with valid JSON."""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def write_log(path: Path, students: int, seed: int) -> None:
    rng = random.Random(seed)
    lines = []
    for _ in range(students):
        n = rng.randint(5, 30)
        skills = [str(rng.randint(1, 6)) for _ in range(n)]
        ability = rng.random()
        answers = [str(int(rng.random() < 0.3 + 0.5 * ability)) for _ in range(n)]
        lines += [str(n), ",".join(skills), ",".join(answers)]
    path.write_text("\n".join(lines) + "\n")


def run(*args: str) -> dict:
    out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_predict_script_prints_all_keys(tmp_path):
    write_log(tmp_path / "train.csv", 40, 1)
    write_log(tmp_path / "test.csv", 20, 2)
    result = run("scripts/eval/predict.py", "--train", str(tmp_path / "train.csv"),
                 "--test", str(tmp_path / "test.csv"))
    keys = {"cold", "cold, never calibrated", "cold, live items", "fitted", "fitted, live items", "alternative",
            "n_in_a_row", "percent_correct"}
    assert set(result["auc"]) == keys and set(result["rmse"]) == keys
    assert result["responses"] > 0
    assert all(0.0 <= v <= 1.0 for v in result["auc"].values())


@pytest.mark.slow
def test_simulate_script_prints_both_worlds(tmp_path):
    result = run("scripts/eval/simulate.py", "--learners", "15")
    for world in ("binary", "continuous"):
        assert set(result[world]) == {"fixed", "three_in_a_row", "ours"}
        for cell in result[world].values():
            assert 0.0 <= cell["post_60"] <= cell["post_120"] + 0.2 <= 1.2
            assert {"mastered_share_60", "false_mastery_60"} <= set(cell)
        aims = result["aims"][world]
        assert aims["beats_fixed_by_25pct"] == (aims["gain_vs_fixed"] >= 0.25)
        assert isinstance(aims["false_mastery_ok"], bool)


def test_auc_is_exact_with_ties():
    sys.path.insert(0, str(ROOT / "scripts" / "eval"))
    from evaltools import auc

    assert auc([0, 1], [0.2, 0.8]) == 1.0
    assert auc([0, 1, 0, 1], [0.5, 0.5, 0.1, 0.9]) == 0.875
