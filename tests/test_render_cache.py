"""Pack Markdown is rendered once per installed catalogue: the same text again is a lookup, and
a change of the installed packs (an import, an upgrade, a removal) renders it anew."""

from __future__ import annotations

from classroom_server.services import pack_storage
from classroom_server.web import render


def test_the_same_text_is_rendered_once_and_again_after_the_packs_change(app, data_dir):
    text = "Which is **bigger**? ![a picture](pictures/missing.svg)"
    with app.test_request_context("/"):
        first = render.render_markdown(text, "org.example", "items")
        assert "<strong>bigger</strong>" in first and "[a picture]" in first  # an unlisted file: no link
        assert render.render_markdown(text, "org.example", "items") is first
        assert render.render_markdown(text, "org.example", "") is not first  # another folder: its own paths
        loaded = app.extensions["catalogue"].get()
        assert loaded.rendered[(text, "org.example", "items")] is first
        pack_storage.bump_generation(data_dir)  # another process installed a pack
        again = render.render_markdown(text, "org.example", "items")
        assert again == first and again is not first
        assert app.extensions["catalogue"].get() is not loaded


def test_the_cache_is_bounded(app, monkeypatch):
    monkeypatch.setattr(render, "MAX_RENDERED", 3)
    with app.test_request_context("/"):
        for n in range(10):
            render.render_markdown(f"text {n}", "org.example")
        assert len(app.extensions["catalogue"].get().rendered) <= 3
