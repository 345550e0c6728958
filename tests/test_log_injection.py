"""Log injection (issue #20, finding 11): what a client sends can never write a line, or a
field, of its own into the request log."""

import io
import logging

import pytest

from classroom_server.weblog import OneLineFormatter, escape, escape_controls

FORGED = '/x%0a127.0.0.1 - admin "GET /admin" 200'


def _request_lines(caplog, client, path):
    caplog.set_level(logging.INFO, logger="classroom_server.request")
    caplog.clear()
    client.get(path)
    return [r.getMessage() for r in caplog.records if r.name == "classroom_server.request"]


def _as_written(record: logging.LogRecord) -> str:
    """The record as the hub's handler writes it to stdout (journald)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.emit(record)
    return stream.getvalue()


def test_an_encoded_newline_in_the_path_stays_on_its_one_line(client, caplog):
    lines = _request_lines(caplog, client, FORGED)
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\r" not in lines[0]
    assert 'path=/x\\n127.0.0.1\\x20-\\x20admin\\x20"GET\\x20/admin"\\x20200 status=404' in lines[0]
    written = _as_written(next(r for r in caplog.records if r.name == "classroom_server.request"))
    assert written.count("\n") == 1 and written.endswith("\n")  # one line written, with the escaped path
    assert "path=/x\\n127.0.0.1\\x20-\\x20admin" in written


@pytest.mark.parametrize("raw, shown", [
    ("%0d", "\\r"), ("%0a", "\\n"), ("%09", "\\t"), ("%00", "\\x00"), ("%1b[31m", "\\x1b[31m"),
    ("%7f", "\\x7f"), ("%c2%85", "\\x85"), ("%e2%80%a8", "\\u2028"), ("%e2%80%a9", "\\u2029"),
    ("%e2%80%ae", "\\u202e"), ("%5c", "\\\\"), ("%20status=200", "\\x20status=200"),
])
def test_control_characters_separators_and_spaces_are_escaped(client, caplog, raw, shown):
    lines = _request_lines(caplog, client, f"/x{raw}y")
    assert len(lines) == 1
    assert f"path=/x{shown}y status=404" in lines[0]
    assert not any(c in lines[0] for c in "\n\r\x00\x1b\x7f\x85\u2028\u2029\u202e")


def test_escapes_cannot_be_confused_with_characters():
    """A backslash is escaped too, so a path that spells an escape is told apart from the real one."""
    assert escape("a\\nb") == "a\\\\nb" and escape("a\nb") == "a\\nb"
    assert escape("école/ü") == "école/ü"  # printable letters stay as they are
    assert escape("𝄞\U000e0001") == "𝄞\\U000e0001"


def test_every_message_of_the_hubs_loggers_is_one_line():
    """A message that quotes something from outside (a district's error, a pack's name) cannot
    break the line either; a traceback after it keeps its own lines."""
    assert escape_controls("district said: no\nadmin logged in\u2028") == "district said: no\\nadmin logged in\\u2028"
    record = logging.LogRecord("classroom_server.sync", logging.WARNING, __file__, 1, "failed: %s", ("x\ny",), None)
    assert _as_written(record).count("\n") == 1
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failed = logging.LogRecord("classroom_server.jobs", logging.ERROR, __file__, 1, "job %s\n", ("a",),
                                   sys.exc_info())
    written = _as_written(failed)
    assert written.splitlines()[0].endswith("job a\\n") and "Traceback" in written.splitlines()[1]
