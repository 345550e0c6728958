#!/usr/bin/env python3
"""Make a content pack's spoken audio from its texts: read-aloud prompts and audio lessons.

    python scripts/packs/make_audio.py [PACK..]         remake the audio whose text changed (or is missing)
    python scripts/packs/make_audio.py --all           remake every file
    python scripts/packs/make_audio.py --check         exit 1, listing every stale file; needs no speech tools
    python scripts/packs/make_audio.py --print [ID..]  show what each file says, make nothing

The packs default to every pack in content_packs/library. Two kinds of audio are made from text:

- a **prompt**: every item with an `audio` field gets, for each of its languages, the text a
  child who cannot read yet needs to hear (see `spoken_text`), where the `audio` field says;
- a **lesson**: every `audio` resource with a `transcript` is that transcript spoken
  (`lesson_text`), where its `path` says; its `duration_minutes` is set from the recording.

Both are spoken by espeak-ng at a slow rate and encoded as small mono Opus (opusenc, or ffmpeg
when opusenc is missing). pack.json gets the files' new sha256 and size, and a manifest beside
the pack folder (`<pack folder>.audio-sources.json`: it cannot live inside the pack, where every
file must be a listed resource) records the exact text of each file and its sha256, so
`--check` can tell which files no longer say what the items and transcripts say.

Only `--check` and `--print` are used by the tests: they need nothing but the standard library.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "content_packs" / "library"

# How prompts are spoken and encoded. Changing any of this makes every prompt stale.
# Spanish: espeak-ng's Latin American voice, whose seseo ("doce", "cinco", "decenas" with an s, not
# the th of Spain) is what children in our Spanish-speaking schools hear; the texts are Latin American too.
VOICES = {"en": "en-us", "fr": "fr", "es": "es-419"}
RATE = 130  # words per minute; espeak-ng speaks 175 by default, too fast for 5 to 7 year olds
OPUSENC = ["--bitrate", "16", "--speech", "--downmix-mono", "--serial", "1"]
FFMPEG = ["-ac", "1", "-c:a", "libopus", "-b:a", "16k", "-application", "voip"]
SETTINGS = {"voices": VOICES, "rate": RATE, "opus": "mono, 16 kbit/s, speech"}

# What signs are called when read aloud: after a number ("45 > 32") as a verb, alone ("type <,
# > or =") as a name. "(>)" after the words "is greater than" is dropped.
SIGNS = {
    "en": {"<": ("is less than", "less than"), ">": ("is greater than", "greater than"),
           "=": ("equals", "equals"), "+": ("plus", "plus")},
    "fr": {"<": ("est plus petit que", "plus petit que"), ">": ("est plus grand que", "plus grand que"),
           "=": ("égale", "égal"), "+": ("plus", "plus")},
    "es": {"<": ("es menor que", "menor que"), ">": ("es mayor que", "mayor que"),
           "=": ("es igual a", "igual"), "+": ("más", "más")},
}
EMPTY_BOX = {"en": "empty box", "fr": "case vide", "es": "casilla vacía"}  # ☐, the box the answer goes in
PICTURE = {"en": "a picture", "fr": "une image", "es": "un dibujo"}  # the Spanish texts call pictures "dibujos"
# "count by 5s": espeak-ng says "five s". The French and Spanish texts say "de 5 en 5".
PLURAL_NUMBERS = {"en": {"2": "twos", "5": "fives", "10": "tens", "100": "hundreds"}}
# Spanish says "una decena", "un atado", "trescientos ochenta y un alumnos"; espeak-ng says "uno" before any
# noun. The nouns the Spanish texts count (singular; plurals match too), by the form of "one" they take.
COUNTED_ONE = {
    "es": {"una": ("decena", "centena", "unidad", "ficha", "barra", "placa", "casilla", "fila", "cuenta",
                   "calcomanía"),
           "un": ("atado", "palito", "cubo", "frijol", "alumno", "marco", "dibujo", "número", "punto", "salto")},
}

# Items whose prompt must not read everything the screen shows, because hearing it would give
# the answer away. Each rule names the text it changes, so an edited item makes the generator
# fail loudly instead of keeping a rule that no longer fits.
#   "lists": False  read the stem only, not the choices / options / left and right columns;
#   "stem":  {lang: [written, spoken]}  say `spoken` where the stem has `written`.
RULES: dict[str, dict[str, Any]] = {
    # "Which ones show eight?": reading "8" and "eight" aloud would answer it.
    "n20-06": {"lists": False},
    # "How do we say 13?": the child hears the three names and looks at 13 on the screen.
    "n20-10": {"stem": {"en": ["**13**", "this number"], "fr": ["**13**", "ce nombre"],
                         "es": ["**13**", "este número"]}},
}

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SYMBOL_IN_PARENS = re.compile(r"\s*\(\s*[<>=]\s*\)")
_LETTER = re.compile(r"[^\W\d_]")


class AudioError(Exception):
    """The pack cannot be read, or a rule does not fit its item any more."""


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_path(pack_dir: Path) -> Path:
    return pack_dir.parent / f"{pack_dir.name}.audio-sources.json"


def _counted_one(number: str, one: str) -> str:
    """A number ending in 1, as Spanish says it before a noun: 1 "una", 21 "veintiuna", 381 "380 y una".
    Others (11 "once", 101...) are left to espeak-ng."""
    if number == "1":
        return one
    if number == "21":
        return "veintiún" if one == "un" else "veintiuna"
    if len(number) >= 2 and number[-2] in "3456789":
        return f"{number[:-1]}0 y {one}"
    return number


def speech(markdown: str, lang: str) -> str:
    """One Markdown text as espeak-ng should read it: no pictures, no markup, symbols in words."""
    text = _IMAGE.sub(" ", markdown)
    text = _LINK.sub(r"\1", text)
    text = text.replace("**", "").replace("__", "").replace("`", "").replace("\u00a0", " ")
    text = text.replace("*", "")
    text = _SYMBOL_IN_PARENS.sub("", text)
    for number, word in PLURAL_NUMBERS.get(lang, {}).items():
        text = re.sub(rf"\b{number}s\b", word, text)
    ones = {noun: one for one, nouns in COUNTED_ONE.get(lang, {}).items() for noun in nouns}
    if ones:
        text = re.sub(rf"\b(\d*1) ({'|'.join(ones)})(?=(?:s|es)?\b)",
                      lambda m: f"{_counted_one(m.group(1), ones[m.group(2)])} {m.group(2)}", text)
    if lang == "en":  # "School A": a lone capital A is a name, not the article
        text = re.sub(r"(?<=\w )A\b", "[[,eI]]", text)
    text = re.sub(r"\s*☐\s*", f", {EMPTY_BOX[lang]}, ", text)
    for sign, (verb, name) in SIGNS[lang].items():
        text = re.sub(rf"(?<=\d)\s*{re.escape(sign)}\s*", f" {verb} ", text)
        text = re.sub(rf"\s*{re.escape(sign)}\s*", f" {name} ", text)
    text = text.replace("…", "...")
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" ([,.])", r"\1", text)
    text = re.sub(r",\s*([,.?!:;])", r"\1", text)
    return " ".join(text.split()).strip(" ,")


def _sentence(text: str) -> str:
    return text if not text or text[-1] in ".?!:…" else text + "."


def _entries(entries: Iterable[dict[str, Any]], lang: str) -> list[str] | None:
    """Spoken lines for one list, or None when nothing in it has words (numerals, signs and
    pictures are what the child looks at, and saying numerals aloud would often answer the
    question). Once a list is read, every entry is, so the child can follow it down the screen."""
    texts = [e["text"][lang] for e in entries]
    if not any(_LETTER.search(_IMAGE.sub(" ", t)) for t in texts):
        return None
    spoken = [speech(t, lang) for t in texts]
    return [_sentence(s) if s else PICTURE[lang] + "." for s in spoken]


def _lists(item: dict[str, Any]) -> list[list[dict[str, Any]]]:
    kind = item.get("type")
    if kind in ("single_choice", "multiple_choice"):
        return [item.get("choices", [])]
    if kind == "ordering":
        options = {o["id"]: o for o in item.get("options", [])}
        order = item.get("prompt_order") or list(options)
        return [[options[i] for i in order]]
    if kind == "matching":
        return [item.get("left", []), item.get("right", [])]
    return []


def spoken_text(item: dict[str, Any], lang: str) -> str:
    """What the prompt of one item says in one language: the stem, then each list of choices,
    options or matching columns that has words in it, one entry a line (espeak-ng pauses at
    each line, and longer at a blank line). Pictures are never described: their alt text often
    names the answer ("7 counters")."""
    rule = RULES.get(item["id"], {})
    stem = item["stem"][lang]
    if "stem" in rule:
        written, said = rule["stem"][lang]
        if written not in stem:
            raise AudioError(f"{item['id']}: the rule for its {lang} prompt expects {written!r} in the stem; "
                             "update RULES in scripts/packs/make_audio.py")
        stem = stem.replace(written, said)
    paragraphs = [_sentence(speech(stem, lang))]
    if rule.get("lists", True):
        for entries in _lists(item):
            lines = _entries(entries, lang)
            if lines:
                paragraphs.append("\n".join(lines))
    return "\n\n".join(p for p in paragraphs if p) + "\n"


def lesson_text(transcript: str, lang: str) -> str:
    """What an audio lesson says: its transcript, each paragraph a sentence or more and a blank
    line apart (espeak-ng pauses there), without Markdown marks, pictures, heading and list signs."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", transcript.strip()):
        lines = [re.sub(r"^\s*(?:#+|[-*+]|\d+[.)])\s+", "", line) for line in block.splitlines()]
        said = speech(" ".join(lines), lang)
        if said:
            paragraphs.append(_sentence(said))
    return "\n\n".join(paragraphs) + "\n"


def _pack(pack_dir: Path) -> dict[str, Any]:
    return json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))


def audio_lessons(pack_dir: Path) -> dict[str, dict[str, str]]:
    """{audio path in the pack: {"resource", "lang", "text"}} for every audio lesson made from its
    transcript (an `audio` resource with a `transcript`)."""
    lessons: dict[str, dict[str, str]] = {}
    for res in _pack(pack_dir).get("resources", []):
        if res.get("kind") != "audio" or not res.get("transcript"):
            continue
        lang = res.get("language")
        if lang not in VOICES:
            raise AudioError(f"{res['id']}: no voice for language {lang!r}; add one to VOICES")
        lessons[res["path"]] = {"resource": res["id"], "lang": lang, "text": lesson_text(res["transcript"], lang)}
    return lessons


def audio_sources(pack_dir: Path) -> dict[str, dict[str, str]]:
    """Every audio file of the pack made from text: prompts and lessons, by path."""
    prompts, lessons = audio_prompts(pack_dir), audio_lessons(pack_dir)
    both = sorted(set(prompts) & set(lessons))
    if both:
        raise AudioError(f"{both[0]} is both the prompt of {prompts[both[0]]['item']} and the lesson "
                         f"{lessons[both[0]]['resource']}")
    return {**prompts, **lessons}


def _label(source: dict[str, str]) -> str:
    return source.get("item") or source["resource"]


def opus_seconds(path: Path) -> float:
    """How long an Ogg Opus file plays: its last page's granule position (48 kHz samples) less
    the pre-skip its OpusHead names. Standard library only, like `--check`."""
    data = path.read_bytes()
    head, last = data.find(b"OpusHead"), data.rfind(b"OggS")
    if head < 0 or last < 0 or len(data) < last + 14:
        raise AudioError(f"{path.name} is not an Ogg Opus file")
    pre_skip = int.from_bytes(data[head + 10:head + 12], "little")
    granule = int.from_bytes(data[last + 6:last + 14], "little", signed=True)
    return max(0.0, (granule - pre_skip) / 48000)


def minutes(seconds: float) -> float:
    """A lesson's `duration_minutes`: to a tenth of a minute (never 0: the schema needs more)."""
    return max(0.1, round(seconds / 60, 1))


def audio_prompts(pack_dir: Path) -> dict[str, dict[str, str]]:
    """{audio path in the pack: {"item", "lang", "text"}} for every audio prompt of the pack's items."""
    pack = _pack(pack_dir)
    prompts: dict[str, dict[str, str]] = {}
    for rel in pack["item_files"]:
        for item in json.loads((pack_dir / rel).read_text(encoding="utf-8")):
            if not item.get("audio"):
                continue
            if "template" in item:
                raise AudioError(f"{item['id']}: a template's instances would share one audio file")
            for lang, path in sorted(item["audio"].items()):
                if lang not in VOICES:
                    raise AudioError(f"{item['id']}: no voice for language {lang!r}; add one to VOICES")
                if path in prompts:
                    raise AudioError(f"{path} is the audio of both {prompts[path]['item']} and {item['id']}")
                prompts[path] = {"item": item["id"], "lang": lang, "text": spoken_text(item, lang)}
    return prompts


def read_manifest(pack_dir: Path) -> dict[str, Any]:
    path = manifest_path(pack_dir)
    if not path.is_file():
        return {"settings": None, "files": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def stale(pack_dir: Path) -> list[str]:
    """Every audio file that does not say what its item or transcript says now, one line each
    (empty: all good).

    A file is stale when it is missing, when the manifest has no entry for it, when the text it
    was made from differs from the current text, when the file is not the one made from that
    text, or when the voice settings changed; a lesson also when its `duration_minutes` is not
    the recording's. Needs no speech tools."""
    manifest = read_manifest(pack_dir)
    files = manifest.get("files", {})
    sources = audio_sources(pack_dir)
    if not sources and not files:
        return []  # a pack without audio made from text
    durations = {res.get("path"): res.get("duration_minutes") for res in _pack(pack_dir).get("resources", [])}
    problems = []
    if manifest.get("settings") != SETTINGS:
        problems.append(f"{manifest_path(pack_dir).name}: made with other voice settings than {SETTINGS}")
    for path, source in sorted(sources.items()):
        entry = files.get(path)
        where = f"{path} ({_label(source)}, {source['lang']})"
        what = "the item's text" if "item" in source else "the transcript"
        if not (pack_dir / path).is_file():
            problems.append(f"{where}: file missing")
        elif entry is None:
            problems.append(f"{where}: not in the manifest")
        elif entry.get("text_sha256") != sha256_text(source["text"]):
            problems.append(f"{where}: {what} changed since the audio was made")
        elif entry.get("audio_sha256") != sha256_file(pack_dir / path):
            problems.append(f"{where}: the file is not the one made from its text")
        elif "resource" in source and durations.get(path) != minutes(opus_seconds(pack_dir / path)):
            problems.append(f"{where}: duration_minutes is {durations.get(path)}, the recording lasts "
                            f"{minutes(opus_seconds(pack_dir / path))}")
    for path in sorted(set(files) - set(sources)):
        problems.append(f"{path}: in the manifest but no item or transcript uses it")
    return problems


def _synthesize(text: str, lang: str, out: Path) -> None:
    """espeak-ng to WAV, then Opus; written next to `out` and renamed into place."""
    with tempfile.TemporaryDirectory() as tmp:
        src, wav, opus = Path(tmp, "text.txt"), Path(tmp, "speech.wav"), Path(tmp, "speech.opus")
        src.write_text(text, encoding="utf-8")
        subprocess.run(["espeak-ng", "-v", VOICES[lang], "-s", str(RATE), "-f", str(src), "-w", str(wav)],
                       check=True, capture_output=True)
        if shutil.which("opusenc"):
            subprocess.run(["opusenc", "--quiet", *OPUSENC, str(wav), str(opus)], check=True, capture_output=True)
        else:
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(wav), *FFMPEG,
                            "-fflags", "+bitexact", "-flags:a", "+bitexact", str(opus)], check=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = out.with_name(out.name + ".tmp")
        shutil.copyfile(opus, tmp_out)
        os.replace(tmp_out, out)


def _set_durations(pack_dir: Path, seconds: dict[str, float]) -> None:
    """Each audio lesson's `duration_minutes`, from its recording (pack.json as the tools write it)."""
    sys.path.insert(0, str(ROOT))
    from content_packs.build import dump_manifest

    pack = _pack(pack_dir)
    for res in pack.get("resources", []):
        if res.get("path") in seconds:
            res["duration_minutes"] = minutes(seconds[res["path"]])
    text = dump_manifest(pack)
    if (pack_dir / "pack.json").read_text(encoding="utf-8") != text:
        (pack_dir / "pack.json").write_text(text, encoding="utf-8", newline="\n")


def make(pack_dir: Path, everything: bool) -> list[str]:
    """Remake stale audio (or all of it), refresh lessons' durations, pack.json checksums and the
    manifest."""
    missing = [tool for tool in ("espeak-ng",) if not shutil.which(tool)]
    if not shutil.which("opusenc") and not shutil.which("ffmpeg"):
        missing.append("opusenc (opus-tools) or ffmpeg")
    if missing:
        raise AudioError("missing tools: " + ", ".join(missing) + " (Debian: apt-get install espeak-ng opus-tools)")
    sources = audio_sources(pack_dir)
    manifest = read_manifest(pack_dir)
    if not sources and not manifest.get("files"):
        return []
    old = manifest.get("files", {}) if manifest.get("settings") == SETTINGS else {}
    files, made, seconds = {}, [], {}
    for path, source in sorted(sources.items()):
        text_sha = sha256_text(source["text"])
        entry = old.get(path)
        target = pack_dir / path
        fresh = (entry is not None and entry.get("text_sha256") == text_sha and target.is_file()
                 and entry.get("audio_sha256") == sha256_file(target))
        if everything or not fresh:
            _synthesize(source["text"], source["lang"], target)
            made.append(path)
        if "item" in source:
            files[path] = {"item": source["item"], "lang": source["lang"]}
        else:
            seconds[path] = opus_seconds(target)
            files[path] = {"resource": source["resource"], "lang": source["lang"], "seconds": round(seconds[path], 2)}
        files[path].update({"text_sha256": text_sha, "audio_sha256": sha256_file(target), "text": source["text"]})
    _set_durations(pack_dir, seconds)
    sys.path.insert(0, str(ROOT))
    from content_packs.build import write_checksums  # the same code `python -m content_packs checksums` runs

    report = write_checksums(pack_dir)
    if not report.ok:
        raise AudioError(report.format())
    text = json.dumps({"about": "Made by scripts/packs/make_audio.py: the exact text of each audio prompt "
                                "and audio lesson. Do not edit by hand.", "settings": SETTINGS, "files": files},
                      indent=2, ensure_ascii=False) + "\n"
    manifest_path(pack_dir).write_text(text, encoding="utf-8", newline="\n")
    return made


def library_packs() -> list[Path]:
    return sorted(p.parent for p in LIBRARY.glob("*/pack.json"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packs", nargs="*", metavar="PACK", help="pack folders (default: every pack in "
                        "content_packs/library)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="list stale audio, exit 1 if there is any")
    mode.add_argument("--all", action="store_true", help="remake every file, not only stale ones")
    mode.add_argument("--print", nargs="*", metavar="ID",
                      help="print what the files say (of these items or resources)")
    args = parser.parse_args(argv)
    pack_dirs = [Path(p) for p in args.packs] or library_packs()
    try:
        if args.check:
            problems = [line for pack_dir in pack_dirs for line in stale(pack_dir)]
            for line in problems:
                print(line)
            print(f"{len(problems)} stale audio file(s)" if problems else "audio prompts and lessons are up to date",
                  file=sys.stderr)
            return 1 if problems else 0
        for pack_dir in pack_dirs:
            if args.print is not None:
                for path, source in sorted(audio_sources(pack_dir).items()):
                    if not args.print or _label(source) in args.print:
                        print(f"== {path}\n{source['text']}")
                continue
            made = make(pack_dir, args.all)
            sources = audio_sources(pack_dir)
            for kind in ("item", "resource"):
                paths = [p for p, source in sources.items() if kind in source]
                if paths:
                    total = sum((pack_dir / p).stat().st_size for p in paths)
                    print(f"{pack_dir.name}: {len(paths)} {'prompts' if kind == 'item' else 'lessons'}, "
                          f"{total} bytes", file=sys.stderr)
            print(f"{pack_dir.name}: made {len(made)} audio file(s)", file=sys.stderr)
        return 0
    except (AudioError, OSError, subprocess.CalledProcessError, json.JSONDecodeError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
