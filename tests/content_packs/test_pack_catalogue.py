"""load_pack and Catalogue: immutable objects, lookups, graph order, and the memory budget."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from content_packs import Catalogue, CycleError, PackInvalid, load_pack, topological_order
from content_packs.model import Localized
from content_packs.testing import edit_json, make_pack

PROJECT = Path(__file__).resolve().parents[2]


def test_loaded_pack_is_immutable_and_complete(pack_dir: Path) -> None:
    pack = load_pack(pack_dir)
    assert (pack.id, pack.version, pack.languages) == ("org.example.generated", "1.0.0", ("en", "es"))
    assert len(pack.skills) == 3 and len(pack.items) == 18 and len(pack.resources) == 7
    item = pack.items[0]
    assert item.stem["es"].startswith("Ejercicio") and item.correct_choice_ids == {"a"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.skill = "other"  # type: ignore[misc]
    with pytest.raises((TypeError, AttributeError)):
        item.stem["en"] = "changed"  # type: ignore[index]
    assert not hasattr(item, "__dict__") and not hasattr(item.stem, "__dict__")


def test_localized_behaves_like_a_read_only_mapping() -> None:
    text = Localized({"en": "half", "es": "mitad"})
    assert dict(text) == {"en": "half", "es": "mitad"} == text.to_dict()
    assert text == {"en": "half", "es": "mitad"} and list(text.items()) == [("en", "half"), ("es", "mitad")]
    assert text.pick("fr") == "half" and text.pick("fr", "es") == "mitad" and text.get("fr") is None
    assert "es" in text and "half" not in text and len(text) == 2
    with pytest.raises(KeyError):
        text["fr"]


def test_load_refuses_an_invalid_pack(pack_dir: Path) -> None:
    edit_json(pack_dir / "pack.json", lambda m: m.update(version="x"))
    with pytest.raises(PackInvalid) as caught:
        load_pack(pack_dir)
    assert caught.value.report.errors[0].where == "/version"


def test_catalogue_lookups_and_order(tmp_path: Path) -> None:
    one = load_pack(make_pack(tmp_path / "a", skills=6, items_per_skill=2, pack_id="org.example.a"))
    two = load_pack(make_pack(tmp_path / "b", skills=2, items_per_skill=1, pack_id="org.example.b"))
    cat = Catalogue([one, two])
    assert cat.skill("org.example.a", "skill-0003").title["en"] == "Skill 3"
    assert [i.id for i in cat.items_for("org.example.a", "skill-0001")] == ["skill-0001-000", "skill-0001-001"]
    assert cat.item("org.example.b", "skill-0001-000").skill == "skill-0001"
    assert [s.id for s in cat.prerequisites("org.example.a", "skill-0004")] == ["skill-0003", "skill-0002"]
    assert {s.id for s in cat.dependents("org.example.a", "skill-0002")} == {"skill-0003", "skill-0004", "skill-0005"}
    assert [r.language for r in cat.resources_for("org.example.a", "skill-0000")] == ["en", "es"]
    order = cat.topological_order()
    assert order[:2] == (("org.example.a", "skill-0000"), ("org.example.a", "skill-0001"))
    assert len(order) == 8 and order[-1] == ("org.example.b", "skill-0001")
    position = {key: i for i, key in enumerate(order)}
    for pack in (one, two):
        for skill in pack.skills:
            assert all(position[(pack.id, p)] < position[(pack.id, skill.id)] for p in skill.prerequisites)
    assert ("org.example.a", "skill-0005") in cat and ("org.example.a", "nope") not in cat
    with pytest.raises(KeyError):
        cat.skill("org.example.a", "nope")
    with pytest.raises(ValueError):
        Catalogue([one, one])
    assert cat.with_pack(one).packs[-1] is one


def test_topological_order_is_stable_and_refuses_cycles() -> None:
    assert topological_order({"c": ["a"], "b": [], "a": []}) == ["b", "a", "c"]
    with pytest.raises(CycleError) as caught:
        topological_order({"a": ["b"], "b": ["a"], "c": []})
    assert caught.value.cycles == [["a", "b", "a"]]


MEASURE = """
import gc, json, resource, sys, time
from content_packs import Catalogue, load_pack
gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
catalogue = Catalogue([load_pack(sys.argv[1], check=sys.argv[2] == "check")])
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
pack = catalogue.packs[0]
print(json.dumps({"seconds": seconds, "mb": (after - before) / 1024, "items": len(pack.items),
                  "skills": len(pack.skills)}))
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in kilobytes on Linux")
def test_big_pack_fits_the_memory_budget(tmp_path: Path) -> None:
    """500 skills and 10,000 items: peak RSS growth under 30 MB, validation included.

    Runs in a fresh interpreter so the peak RSS is this load's alone. Its time is a benchmark's
    business (scripts/bench/packs.py, docs/performance.md), not a test's: a busy machine is slow.
    """
    root = make_pack(tmp_path / "big", skills=500, items_per_skill=20)
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    out = subprocess.run([sys.executable, "-c", MEASURE, str(root), "check"], capture_output=True, text=True,
                         env=env, check=True, timeout=120)
    result = json.loads(out.stdout)
    print(result)
    assert (result["items"], result["skills"]) == (10_000, 500)
    assert result["mb"] < 30, result
