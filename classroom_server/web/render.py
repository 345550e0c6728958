"""Markdown from packs to safe HTML: CommonMark with raw HTML off, pictures from the hub only.

A pack's Markdown may point at its own files with relative paths; those become the files'
content-addressed URLs. Anything else (a web address, a file the pack does not list) is shown as
plain text: a learner's page never asks another host for anything.
"""

from __future__ import annotations

import posixpath
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app
from markupsafe import Markup, escape

from classroom_server.web.content import url_for_file


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt  # imported on the first lesson, not at start

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _resolve(base_dir: str, target: str) -> str | None:
    if not target or "://" in target or target.startswith(("/", "data:", "mailto:", "#")):
        return None
    joined = posixpath.normpath(posixpath.join(base_dir, target))
    return None if joined.startswith("..") else joined


MAX_RENDERED = 4096  # Markdown texts kept rendered (a pack's stems, choices, hints, lessons: a few hundred)


def render_markdown(text: str, pack_id: str, base_dir: str = "") -> Markup:
    """Render pack Markdown; ``base_dir`` is the folder (inside the pack) the text's paths are relative to.

    Rendered once per installed catalogue: the same item page again costs a dictionary lookup."""
    loaded = current_app.extensions["catalogue"].get()
    key = (text or "", pack_id, base_dir)
    found = loaded.rendered.get(key)
    if found is None:
        found = _render(text, pack_id, base_dir)
        if len(loaded.rendered) >= MAX_RENDERED:
            loaded.rendered.clear()
        loaded.rendered[key] = found
    return found


def _render(text: str, pack_id: str, base_dir: str) -> Markup:
    parser = _parser()
    tokens = parser.parse(text or "")
    for token in tokens:
        for child in token.children or ():
            if child.type == "image":
                path = _resolve(base_dir, str(child.attrs.get("src", "")))
                url = url_for_file(pack_id, path) if path else None
                if url is None:
                    child.type, child.tag, child.children = "text", "", None
                    child.content = f"[{child.content}]"
                else:
                    child.attrs["src"] = url
                    child.attrs["loading"] = "lazy"
            elif child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                path = _resolve(base_dir, href)
                url = url_for_file(pack_id, path) if path else None
                child.attrs["href"] = url or "#"
                if url is None:
                    child.attrs["data-offline"] = "1"
    html = parser.renderer.render(tokens, parser.options, {})
    return Markup(html)


def render_resource(file: Path, pack_id: str, resource_path: str) -> Markup:
    """A pack's Markdown file (a lesson, a printable activity), its links and pictures read
    relative to the file's folder inside the pack."""
    base_dir = resource_path.rsplit("/", 1)[0] if "/" in resource_path else ""
    return render_markdown(Path(file).read_text(encoding="utf-8"), pack_id, base_dir)


def inline(text: str, pack_id: str, base_dir: str = "") -> Markup:
    """Short Markdown (a choice, an option) without the surrounding paragraph."""
    html = str(render_markdown(text, pack_id, base_dir)).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)


def plain(text: Any) -> Markup:
    return escape(text)
