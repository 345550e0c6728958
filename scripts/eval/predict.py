"""Next-answer prediction on a learner log: our models against the rules peers use.

Usage (from the repository root):

    python scripts/eval/predict.py --train TRAIN --test TEST [--write-docs]

Both files use the three-lines-per-student format (count; comma-separated skill ids;
comma-separated 0/1). Each test student is replayed in order: predict P(correct) before each
answer, then learn from it. The skill id stands in for the item (the data has no item ids).
Models: the default Elo with no training ("cold"), Elo fitted on TRAIN ("fitted": step sizes and
item difficulties), PFA-log fitted on TRAIN ("alternative"), and two peer rules used as predictors:
the current run of correct answers on the skill ("n_in_a_row", scored as (n+1)/(n+2)) and the
running percent correct on the skill ("percent_correct", Laplace-smoothed).

Elo runs as the hub runs it: item and skill difficulties are shared by every learner, so they are
frozen between calibrations (a ``model.calibrated`` event, fitted by replaying the log). "cold"
recalibrates every --calibrate-every test responses (about a class's day of answers) on the test
responses seen so far; "cold, never calibrated" is a hub's first day (pack priors only); "fitted"
keeps the difficulties fitted on TRAIN. The "live" rows learn difficulties online from every
answer, as the engine did before its projections had to be reproducible: the difference is what
reproducibility costs.
The last line printed is one JSON object with AUC, RMSE and the number of test responses.
"""

from __future__ import annotations

import argparse
import json
import time

import evaltools  # noqa: F401  (puts the repository root on sys.path)
from evaltools import auc, markdown_table, read_sequences, rmse, write_docs_section

from classroom_server.learning.elo import EloModel
from classroom_server.learning.elo_fit import fit_elo
from classroom_server.learning.pfa import PfaModel, fit_pfa

KEYS = ("cold", "cold, never calibrated", "cold, live items", "fitted", "fitted, live items", "alternative",
        "n_in_a_row", "percent_correct")


def replay_calibrated(sequences, every: int, params=None) -> list[float]:
    """Items frozen, recalibrated every `every` responses on the responses seen so far."""
    model = EloModel(params, learn_items=False)
    seen: list[tuple[str, str, bool]] = []
    predictions = []
    for index, (skills, answers) in enumerate(sequences):
        learner_id = f"test-{index}"
        for skill, answer in zip(skills, answers):
            predictions.append(model.update(learner_id, skill, skill, bool(answer)))
            seen.append((learner_id, skill, bool(answer)))
            if every and len(seen) % every == 0:
                fit = EloModel(params, learn_items=True)
                for learner, fit_skill, right in seen:
                    fit.update(learner, fit_skill, fit_skill, right)
                model.calibrate(fit.items, fit.skills)
    return predictions


def replay_model(model, sequences) -> list[float]:
    """Online predictions of a LearnerModel over the test students, one after another."""
    predictions = []
    for index, (skills, answers) in enumerate(sequences):
        learner_id = f"test-{index}"
        for skill, answer in zip(skills, answers):
            predictions.append(model.update(learner_id, skill, skill, bool(answer)))
    return predictions


def replay_rules(sequences) -> tuple[list[float], list[float]]:
    """Peer rules as predictors: streak on the skill, and smoothed percent correct on the skill."""
    streak_scores, percent_scores = [], []
    for skills, answers in sequences:
        streak: dict[str, int] = {}
        right: dict[str, int] = {}
        seen: dict[str, int] = {}
        for skill, answer in zip(skills, answers):
            n = streak.get(skill, 0)
            streak_scores.append((n + 1) / (n + 2))
            percent_scores.append((right.get(skill, 0) + 1) / (seen.get(skill, 0) + 2))
            streak[skill] = n + 1 if answer else 0
            right[skill] = right.get(skill, 0) + answer
            seen[skill] = seen.get(skill, 0) + 1
    return streak_scores, percent_scores


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", required=True, help="training log (three lines per student)")
    parser.add_argument("--test", required=True, help="test log (three lines per student)")
    parser.add_argument("--write-docs", action="store_true", help="write the table into the docs")
    parser.add_argument("--calibrate-every", type=int, default=2000,
                        help="test responses between two calibrations (default 2000: 40 learners x 50)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    train = read_sequences(args.train)
    test = read_sequences(args.test)
    labels = [a for _, answers in test for a in answers]
    predictions: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}

    clock = time.perf_counter()
    predictions["cold"] = replay_calibrated(test, args.calibrate_every)
    seconds["cold"] = time.perf_counter() - clock
    clock = time.perf_counter()
    predictions["cold, never calibrated"] = replay_model(EloModel(learn_items=False), test)
    seconds["cold, never calibrated"] = time.perf_counter() - clock
    clock = time.perf_counter()
    predictions["cold, live items"] = replay_model(EloModel(learn_items=True), test)
    seconds["cold, live items"] = time.perf_counter() - clock

    clock = time.perf_counter()
    histories = [[(s, s, bool(a), 0) for s, a in zip(skills, answers)] for skills, answers in train]
    fitted, params = fit_elo(histories)
    fit_seconds = time.perf_counter() - clock
    live = fitted.without_learners()
    fitted.learn_items = False
    clock = time.perf_counter()
    predictions["fitted"] = replay_model(fitted, test)
    seconds["fitted"] = time.perf_counter() - clock + fit_seconds
    clock = time.perf_counter()
    predictions["fitted, live items"] = replay_model(live, test)
    seconds["fitted, live items"] = time.perf_counter() - clock + fit_seconds

    clock = time.perf_counter()
    weights = fit_pfa([[(s, s, float(a)) for s, a in zip(sk, an)] for sk, an in train])
    predictions["alternative"] = replay_model(PfaModel(weights), test)
    seconds["alternative"] = time.perf_counter() - clock

    predictions["n_in_a_row"], predictions["percent_correct"] = replay_rules(test)

    result = {
        "auc": {k: round(auc(labels, predictions[k]), 4) for k in KEYS},
        "rmse": {k: round(rmse(labels, predictions[k]), 4) for k in KEYS},
        "responses": len(labels),
    }
    total = time.perf_counter() - started
    rows = [
        (k, f"{result['auc'][k]:.4f}", f"{result['rmse'][k]:.4f}",
         f"{seconds[k]:.1f}" if k in seconds else "-")
        for k in KEYS
    ]
    table = markdown_table(("predictor", "AUC", "RMSE", "fit + replay s"), rows)
    print(table)
    print(f"train: {len(train)} students; test: {len(test)} students, {len(labels)} responses; "
          f"total {total:.1f} s")
    print("fitted Elo params: " + json.dumps(params.to_dict(), sort_keys=True))
    if args.write_docs:
        note = (f"\n{len(labels)} test responses from {len(test)} students "
                f"({len(train)} training students); \"cold\" recalibrated every {args.calibrate_every} "
                f"responses; whole run {total:.0f} s.")
        write_docs_section("predict", table + "\n" + note)
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    main()
