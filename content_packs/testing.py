"""Generated packs for tests and benchmarks (never shipped to learners).

make_pack writes a valid pack of any size: one item of each type in turn, two languages, a
text resource per skill and a shared SVG referenced from Markdown, with checksums filled in.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

from .build import write_checksums

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10">'
       '<rect width="30" height="10" fill="#48c"/><rect x="30" width="10" height="10" fill="#eee"/></svg>\n')
LANGS = ("en", "es")
TYPES = ("single_choice", "multiple_choice", "numeric", "short_text", "ordering", "matching")


def _loc(en: str, es: str, langs: tuple[str, ...] = LANGS) -> dict[str, str]:
    return {lang: (en if lang == "en" else es) for lang in langs}


def make_item(item_id: str, skill: str, kind: str, n: int = 0, langs: tuple[str, ...] = LANGS) -> dict[str, Any]:
    """One valid item of the given type; `n` varies the numbers so texts are not all equal."""
    a, b = n % 9 + 1, n % 9 + 2
    item: dict[str, Any] = {
        "id": item_id, "skill": skill, "type": kind,
        "stem": _loc(f"Item {n}: a bar is cut into {b} equal parts and {a} are shaded. "
                     f"What fraction of the bar is shaded?",
                     f"Ejercicio {n}: una barra se corta en {b} partes iguales y {a} están "
                     f"sombreadas. ¿Qué fracción de la barra está sombreada?", langs),
        "hints": [_loc("Count the equal parts first.", "Primero cuenta las partes iguales.", langs),
                  _loc(f"The bottom number is {b}.", f"El número de abajo es {b}.", langs)],
        "solution": _loc(f"There are {b} equal parts and {a} are shaded, so the answer is {a}/{b}. "
                         "![bar](media/bar.svg)",
                         f"Hay {b} partes iguales y {a} están sombreadas: la respuesta es {a}/{b}. "
                         "![barra](media/bar.svg)", langs),
        "difficulty": round((n % 7 - 3) / 2, 1),
    }
    wrong = _loc(f"That counts the unshaded parts too. Count only the {a} shaded ones.",
                 f"Así cuentas también las partes sin sombrear. Cuenta solo las {a} sombreadas.", langs)
    if kind in ("single_choice", "multiple_choice"):
        item["choices"] = [
            {"id": "a", "text": _loc(f"{a}/{b}", f"{a}/{b}", langs), "correct": True},
            {"id": "b", "text": _loc(f"{b}/{a}", f"{b}/{a}", langs), "correct": False, "feedback": wrong},
            {"id": "c", "text": _loc(f"{a * 2}/{b * 2}", f"{a * 2}/{b * 2}", langs),
             "correct": kind == "multiple_choice", **({} if kind == "multiple_choice" else {"feedback": wrong})},
        ]
    elif kind == "numeric":
        item["answer"] = {"value": f"{a}/{b}", "tolerance": 0, "forms": ["fraction", "decimal"]}
        item["wrong_answers"] = [{"value": f"{b}/{a}", "feedback": wrong}]
    elif kind == "short_text":
        item["answer"] = {"accepted": {lang: (["one half", "a half"] if lang == "en" else ["un medio", "la mitad"])
                                       for lang in langs}}
        item["wrong_answers"] = [{"value": _loc("two", "dos", langs), "feedback": wrong}]
    elif kind == "ordering":
        item["options"] = [{"id": x, "text": _loc(t, t, langs)} for x, t in (("p", "1/4"), ("q", "1/2"), ("r", "3/4"))]
        item["answer"] = ["p", "q", "r"]
        item["prompt_order"] = ["r", "p", "q"]
        item["feedback_wrong"] = _loc("Same denominator: compare the numerators.",
                                      "Mismo denominador: compara los numeradores.", langs)
    elif kind == "matching":
        item["left"] = [{"id": "l1", "text": _loc("1/2", "1/2", langs)}, {"id": "l2", "text": _loc("1/4", "1/4", langs)}]
        item["right"] = [{"id": "r1", "text": _loc("0.5", "0,5", langs)}, {"id": "r2", "text": _loc("0.25", "0,25", langs)}]
        item["answer"] = {"l1": "r1", "l2": "r2"}
        item["feedback_wrong"] = _loc("Divide the top by the bottom.", "Divide el de arriba entre el de abajo.", langs)
    return item


def make_template_item(item_id: str, skill: str, instances: int = 12,
                       langs: tuple[str, ...] = LANGS) -> dict[str, Any]:
    """A valid numeric template item: adding fractions with like denominators.

    Its wrong answer is the common mistake of adding the denominators too.
    """
    return {
        "id": item_id, "skill": skill, "type": "numeric",
        "template": {"params": {"a": {"range": [1, 9]}, "b": {"range": [2, 12], "step": 2},
                                "c": {"choice": [1, 2, 3, 5]}},
                     "where": ["a + c < b"], "instances": instances},
        "stem": _loc("What is {a}/{b} + {c}/{b}?", "¿Cuánto es {a}/{b} + {c}/{b}?", langs),
        "hints": [_loc("The parts have the same size: add the numerators only.",
                       "Las partes tienen el mismo tamaño: suma solo los numeradores.", langs)],
        "solution": _loc("{a}/{b} + {c}/{b} = {a + c}/{b} = {frac(a + c, b)}",
                         "{a}/{b} + {c}/{b} = {a + c}/{b} = {frac(a + c, b)}", langs),
        "answer": {"value": "{frac(a + c, b)}", "forms": ["fraction", "decimal"]},
        "wrong_answers": [{"value": "{frac(a + c, b + b)}",
                           "feedback": _loc("Add only the numerators: the denominator stays {b}.",
                                            "Suma solo los numeradores: el denominador sigue siendo {b}.",
                                            langs)}],
    }


def make_manifest(skills: int, langs: tuple[str, ...] = LANGS, pack_id: str = "org.example.generated") -> dict[str, Any]:
    """pack.json for make_pack (without files)."""
    skill_ids = [f"skill-{i:04d}" for i in range(skills)]
    return {
        "format": 1, "id": pack_id, "version": "1.0.0", "languages": list(langs),
        "title": _loc("Generated fractions", "Fracciones generadas", langs),
        "description": _loc("A generated pack for tests.", "Un paquete generado para pruebas.", langs),
        "license": "CC-BY-4.0", "authors": [{"name": "Test Author"}],
        "framework": {"name": "Common Core State Standards for Mathematics"}, "grades": [3, 5],
        "skills": [{"id": sid, "title": _loc(f"Skill {i}", f"Destreza {i}", langs),
                    "description": _loc(f"Practise skill {i}.", f"Practica la destreza {i}.", langs),
                    "prerequisites": [skill_ids[i - 1]] + ([skill_ids[i // 2]] if i > 2 and i // 2 != i - 1 else [])
                    if i else [], "standards": ["3.NF.A.1"], "minutes": 20, "grades": [3, 4]}
                   for i, sid in enumerate(skill_ids)],
        "resources": [{"id": "bar-image", "skills": [], "kind": "image", "title": _loc("A bar", "Una barra", langs),
                       "path": "media/bar.svg"}]
        + [{"id": f"{sid}-read-{lang}", "skills": [sid], "kind": "text", "language": lang,
            "title": {lang: f"Read about {sid}"}, "path": f"resources/{lang}/{sid}.md", "duration_minutes": 5}
           for sid in skill_ids for lang in langs],
        "item_files": [f"items/{sid}.json" for sid in skill_ids],
    }


def make_pack(dest: str | os.PathLike, *, skills: int = 3, items_per_skill: int = 6,
              langs: tuple[str, ...] = LANGS, pack_id: str = "org.example.generated") -> Path:
    """Write a valid pack folder at `dest` (created) and return its path."""
    root = Path(dest)
    manifest = make_manifest(skills, langs, pack_id)
    (root / "media").mkdir(parents=True, exist_ok=True)
    (root / "media" / "bar.svg").write_text(SVG, encoding="utf-8")
    for lang in langs:
        (root / "resources" / lang).mkdir(parents=True, exist_ok=True)
    (root / "items").mkdir(exist_ok=True)
    n = 0
    for skill in manifest["skills"]:
        sid = skill["id"]
        for lang in langs:
            (root / "resources" / lang / f"{sid}.md").write_text(
                f"# {sid}\n\nA fraction names equal parts of a whole.\n\n![bar](../../media/bar.svg)\n",
                encoding="utf-8")
        items = []
        for k in range(items_per_skill):
            items.append(make_item(f"{sid}-{k:03d}", sid, TYPES[k % len(TYPES)], n, langs))
            n += 1
        (root / "items" / f"{sid}.json").write_text(json.dumps(items, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
    (root / "pack.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report = write_checksums(root)
    assert report.ok, report.format()
    return root


def edit_json(path: str | os.PathLike, change: Callable[[Any], Any]) -> None:
    """Load a JSON file, let `change` edit the data in place, write it back."""
    path = Path(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")


def key_response(item: Any, lang: str) -> Any:
    """A response built from the item's own key that must grade as correct (a self-check for packs)."""
    from decimal import Decimal, localcontext

    from .numbers import accepted_forms, parse_number

    if item.type == "single_choice":
        return next(c.id for c in item.choices if c.correct)
    if item.type == "multiple_choice":
        return [c.id for c in item.choices if c.correct]
    if item.type == "numeric":
        number = parse_number(item.answer.value)
        forms = accepted_forms(item.answer.forms)
        if number.form in forms:
            return item.answer.value
        if number.value.denominator == 1:
            return str(number.value.numerator)
        with localcontext() as ctx:
            ctx.prec = 40
            text = str(Decimal(number.value.numerator) / Decimal(number.value.denominator))
        return text if "decimal" in forms else f"{number.value.numerator}/{number.value.denominator}"
    if item.type == "short_text":
        return item.answer.pick(lang)[0]
    if item.type == "ordering":
        return list(item.answer)
    if item.type == "matching":
        return dict(item.answer)
    raise ValueError(item.type)
