"""Shared helpers for the evaluation scripts: data reading, exact metrics, the docs table writer.

Standard library only, so the scripts run on a bare Pi image as well as in CI.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Iterable, Sequence

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

DOCS_PATH = os.path.join(REPO_ROOT, "docs", "learning-engine.md")


def read_sequences(path: str) -> list[tuple[list[str], list[int]]]:
    """Read the three-lines-per-student format: count, skill ids, 0/1 answers.

    Blank lines are skipped; a block whose lengths disagree is an error that names its line.
    """
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    if len(lines) % 3:
        raise ValueError(f"{path}: {len(lines)} non-blank lines, expected a multiple of 3")
    sequences = []
    for start in range(0, len(lines), 3):
        count = int(lines[start].rstrip(","))
        skills = [s for s in lines[start + 1].split(",") if s != ""]
        answers = [int(a) for a in lines[start + 2].split(",") if a != ""]
        if len(skills) != count or len(answers) != count:
            raise ValueError(
                f"{path}: block at line {start + 1} says {count} responses but has "
                f"{len(skills)} skills and {len(answers)} answers"
            )
        sequences.append((skills, answers))
    return sequences


def auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Exact ROC AUC by ranks (Mann-Whitney U), ties given their average rank."""
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum_pos = 0.0
    n = len(order)
    i = 0
    while i < n:
        j = i
        value = scores[order[i]]
        while j + 1 < n and scores[order[j + 1]] == value:
            j += 1
        average_rank = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            if labels[order[k]]:
                rank_sum_pos += average_rank
        i = j + 1
    positives = sum(1 for y in labels if y)
    negatives = n - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    return (rank_sum_pos - positives * (positives + 1) / 2.0) / (positives * negatives)


def rmse(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Root mean squared error of probabilities against 0/1 outcomes."""
    if not labels:
        return float("nan")
    return math.sqrt(sum((y - p) ** 2 for y, p in zip(labels, scores)) / len(labels))


def write_docs_section(marker: str, body: str, path: str = DOCS_PATH) -> None:
    """Replace the text between `<!-- marker:start -->` and `<!-- marker:end -->` in the docs."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if start not in text or end not in text:
        raise SystemExit(f"{path}: markers {start} / {end} not found")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(head + start + "\n" + body.rstrip("\n") + "\n" + end + tail)


def markdown_table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A small GitHub-flavoured markdown table."""
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)
