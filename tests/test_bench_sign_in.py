"""scripts/bench/sign_in.py: a learner's sign-in step by step, with the real learner hash."""

import pytest

from scripts.bench import sign_in


def test_every_demo_learner_signs_in_and_each_step_is_timed(capsys: pytest.CaptureFixture[str]) -> None:
    result = sign_in.main(["--rounds", "1"])
    steps = result["steps_cpu_ms_p50"]
    assert set(steps) == {"classes page", "names page", "pictures or PIN page", "pictures POST", "PIN POST",
                          "first My path"}
    assert all(value > 0 for value in steps.values())
    assert result["picture_sign_in_requests"] == 5  # the page's script keeps the first taps: one POST
    assert result["picture_sign_in_cpu_ms"] == pytest.approx(
        steps["classes page"] + steps["names page"] + steps["pictures or PIN page"] + steps["pictures POST"]
        + steps["first My path"], abs=0.05)
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("{")


def test_no_rounds_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        sign_in.main(["--rounds", "0"])
    assert "--rounds must be at least 1" in capsys.readouterr().err
