"""Generated packs for tests and benchmarks (never shipped to learners).

make_pack writes a valid pack of any size: one item of each type in turn, two languages, a
text resource per skill and a shared SVG referenced from Markdown, with checksums filled in.
On request (`media`), each skill also gets a picture listed with it and shown in its text
lesson, and audio, video and PDF lessons in each language: tiny but real files (silent Ogg
Opus, a one-frame WebM, a one-page PDF) written here, so a browser can load and play them.
"""
from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .build import write_checksums

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10">'
       '<rect width="30" height="10" fill="#48c"/><rect x="30" width="10" height="10" fill="#eee"/></svg>\n')
PICTURE = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40">'
           '<path d="M20 2a18 18 0 0 1 0 36z" fill="#48c"/><circle cx="20" cy="20" r="18" fill="none" '
           'stroke="#333" stroke-width="2"/><path d="M20 2v36" stroke="#333" stroke-width="2"/></svg>\n')
PICTURE_ALT = ("A circle cut into two equal halves", "Un círculo cortado en dos mitades iguales")
TRANSCRIPT = ("Cut a circle into two equal parts: each one is **one half**.",
              "Corta un círculo en dos partes iguales: cada una es **un medio**.")
LANGS = ("en", "es")
MEDIA_KINDS = ("image", "audio", "video", "pdf")  # what make_pack(media=...) may add to every skill
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
        item["left"] = [{"id": "l1", "text": _loc("1/2", "1/2", langs)},
                        {"id": "l2", "text": _loc("1/4", "1/4", langs)}]
        item["right"] = [{"id": "r1", "text": _loc("0.5", "0,5", langs)},
                         {"id": "r2", "text": _loc("0.25", "0,25", langs)}]
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


# --- tiny media files -------------------------------------------------------------------------

def _ogg_crc(data: bytes) -> int:
    """Ogg's CRC-32: polynomial 0x04c11db7, not reflected, starting at 0."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def _ogg_page(packets: list[bytes], granule: int, seq: int, flags: int, serial: int = 0x636C6173) -> bytes:
    lacing = b"".join(bytes([255] * (len(p) // 255) + [len(p) % 255]) for p in packets)
    header = b"OggS" + struct.pack("<BBqIII", 0, flags, granule, serial, seq, 0) + bytes([len(lacing)]) + lacing
    page = header + b"".join(packets)
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def silent_opus(seconds: float = 0.5, language: str | None = None) -> bytes:
    """A valid mono Ogg Opus file of silence (.opus/.ogg): 20 ms CELT frames that decode to zeros,
    tagged with its language (so each language's file has its own checksum)."""
    pre_skip, frames = 312, max(1, round(seconds * 50))
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0)
    vendor = b"content_packs.testing"
    comments = [f"LANGUAGE={language}".encode("ascii")] if language else []
    tags = (b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
            + b"".join(struct.pack("<I", len(c)) + c for c in comments))
    silence = b"\xf8\xff\xfe"  # TOC: CELT full band 20 ms mono, one frame; then a silent frame
    return (_ogg_page([head], 0, 0, 0x02) + _ogg_page([tags], 0, 1, 0)
            + _ogg_page([silence] * frames, pre_skip + 960 * frames, 2, 0x04))


# One 16x16 VP8 key frame of the picture's blue, as a WebM muxer stores it.
_VP8_FRAME = bytes.fromhex("b002009d012a1000100000470885858885848802020275aa03f8020cfdc400fee78bfffcb42f"
                           "9685f2d0bfe5a17ff7faaf7f55efeabfda10")


def _ebml(element_id: int, payload: bytes | int | str) -> bytes:
    if isinstance(payload, int):
        payload = payload.to_bytes(max(1, (payload.bit_length() + 7) // 8), "big")
    elif isinstance(payload, str):
        payload = payload.encode("ascii")
    size = (1 << 56 | len(payload)).to_bytes(8, "big")  # 8-byte size: simple and always valid
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + size + payload


def tiny_webm() -> bytes:
    """A valid WebM video (.webm) of one 16x16 frame shown for 40 ms."""
    header = _ebml(0x1A45DFA3, _ebml(0x4286, 1) + _ebml(0x42F7, 1) + _ebml(0x42F2, 4) + _ebml(0x42F3, 8)
                   + _ebml(0x4282, "webm") + _ebml(0x4287, 2) + _ebml(0x4285, 2))
    info = _ebml(0x1549A966, _ebml(0x2AD7B1, 1_000_000) + _ebml(0x4489, struct.pack(">f", 40.0))
                 + _ebml(0x4D80, "content_packs") + _ebml(0x5741, "content_packs"))
    video = _ebml(0xE0, _ebml(0xB0, 16) + _ebml(0xBA, 16))
    tracks = _ebml(0x1654AE6B, _ebml(0xAE, _ebml(0xD7, 1) + _ebml(0x73C5, 1) + _ebml(0x83, 1)
                                     + _ebml(0x86, "V_VP8") + video))
    cluster = _ebml(0x1F43B675, _ebml(0xE7, 0) + _ebml(0xA3, b"\x81\x00\x00\x80" + _VP8_FRAME))
    return header + _ebml(0x18538067, info + tracks + cluster)


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF (.pdf) showing one line of text (Latin-1)."""
    line = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")
    stream = b"BT /F1 24 Tf 40 760 Td (" + line + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _media_resources(sid: str, kinds: tuple[str, ...], langs: tuple[str, ...]) -> list[dict[str, Any]]:
    """A skill's media: a picture that its Markdown lessons show (SPEC: a picture is media, not a
    lesson, even listed with a skill), audio and PDF lessons in each language, and a video
    without words (one file, no `language`, titled in every language)."""
    found: list[dict[str, Any]] = []
    for kind in kinds:
        if kind == "image":
            found.append({"id": f"{sid}-picture", "skills": [sid], "kind": "image",
                          "title": _loc(*PICTURE_ALT, langs), "path": f"media/{sid}-picture.svg"})
        elif kind == "video":
            found.append({"id": f"{sid}-watch", "skills": [sid], "kind": "video",
                          "title": _loc("Watch: halves", "Mira: mitades", langs), "path": f"media/{sid}.webm",
                          "duration_minutes": 1})
        else:
            name, ext, en, es = {"audio": ("listen", "opus", "Listen: halves", "Escucha: mitades"),
                                 "pdf": ("document", "pdf", "Document: halves", "Documento: mitades")}[kind]
            found += [{"id": f"{sid}-{name}-{lang}", "skills": [sid], "kind": kind, "language": lang,
                       "title": {lang: _loc(en, es, langs)[lang]}, "path": f"resources/{lang}/{sid}.{ext}",
                       "duration_minutes": 1} for lang in langs]
            if kind == "audio":  # what the recording says, shown under its player
                for resource in found[-len(langs):]:
                    resource["transcript"] = _loc(*TRANSCRIPT, langs)[resource["language"]]
    return found


def make_manifest(skills: int, langs: tuple[str, ...] = LANGS, pack_id: str = "org.example.generated",
                  media: tuple[str, ...] = ()) -> dict[str, Any]:
    """pack.json for make_pack (without files)."""
    unknown = set(media) - set(MEDIA_KINDS)
    if unknown:
        raise ValueError(f"unknown media kinds {sorted(unknown)}: choose from {MEDIA_KINDS}")
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
           for sid in skill_ids for lang in langs]
        + [r for sid in skill_ids for r in _media_resources(sid, tuple(media), langs)],
        "item_files": [f"items/{sid}.json" for sid in skill_ids],
    }


def make_pack(dest: str | os.PathLike, *, skills: int = 3, items_per_skill: int = 6,
              langs: tuple[str, ...] = LANGS, pack_id: str = "org.example.generated",
              media: tuple[str, ...] = ()) -> Path:
    """Write a valid pack folder at `dest` (created) and return its path.

    `media` (any of MEDIA_KINDS) adds those to every skill (see _media_resources); without it
    the pack is byte for byte what it always was (tests and benchmarks rely on it)."""
    root = Path(dest)
    manifest = make_manifest(skills, langs, pack_id, media)
    (root / "media").mkdir(parents=True, exist_ok=True)
    (root / "media" / "bar.svg").write_text(SVG, encoding="utf-8")
    for lang in langs:
        (root / "resources" / lang).mkdir(parents=True, exist_ok=True)
    (root / "items").mkdir(exist_ok=True)
    n = 0
    for skill in manifest["skills"]:
        sid = skill["id"]
        for lang in langs:
            picture = (f"\n![{_loc(*PICTURE_ALT, langs)[lang]}](../../media/{sid}-picture.svg)\n"
                       if "image" in media else "")
            (root / "resources" / lang / f"{sid}.md").write_text(
                f"# {sid}\n\nA fraction names equal parts of a whole.\n\n![bar](../../media/bar.svg)\n{picture}",
                encoding="utf-8")
        items = []
        for k in range(items_per_skill):
            items.append(make_item(f"{sid}-{k:03d}", sid, TYPES[k % len(TYPES)], n, langs))
            n += 1
        (root / "items" / f"{sid}.json").write_text(json.dumps(items, ensure_ascii=False, indent=1) + "\n",
                                                    encoding="utf-8")
    for resource in manifest["resources"]:
        if resource["kind"] in MEDIA_KINDS and resource["skills"]:  # not the shared bar.svg
            kind, where = resource["kind"], root.joinpath(*resource["path"].split("/"))
            if kind == "image":
                where.write_text(PICTURE, encoding="utf-8")
            else:
                makers: dict[str, Callable[[dict[str, Any]], bytes]] = {
                    "audio": lambda res: silent_opus(language=res["language"]), "video": lambda res: tiny_webm(),
                    "pdf": lambda res: tiny_pdf(next(iter(res["title"].values())))}
                where.write_bytes(makers[kind](resource))
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
        assert number is not None, f"item {item.id} has no readable answer"
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
