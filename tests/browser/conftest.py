"""Real parts: the hub under waitress on loopback, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import threading
from pathlib import Path

import pytest

from tests.conftest import need

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    need(Path(CHROMIUM).exists() or bool(shutil.which("chromium")), f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        need(False, "the playwright package is not installed")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield chromium
    chromium.close()
    playwright.stop()


class _Refuser:
    """Holds a dropped hub's port: every connection is reset at once, as on a dead link, and no
    other test's server (another worker's, whose port 0 may be given this very number) can take
    the port before the hub comes back on it. With ``stall``, a connection is taken and never
    answered instead: a Wi-Fi that hangs rather than fails (the hub gone, the network up)."""

    def __init__(self, port: int, stall: bool = False) -> None:
        self.stall = stall
        self.held: list[socket.socket] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not FIN
            if self.stall:
                self.held.append(conn)  # read nothing, answer nothing
                continue
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


class LiveHub(str):
    """The hub's base URL, and a switch to take it off the network and back (a Wi-Fi drop).

    Playwright's offline emulation does not cover requests a service worker lets through, so
    the drop is made the hard way: the server stops, and until it listens again on the same port
    every connection to it is reset (the port stays this hub's: see _Refuser).
    """

    def __new__(cls, app, port: int = 0):  # type: ignore[no-untyped-def]
        server, thread = cls._serve(app, port)
        hub = super().__new__(cls, f"http://127.0.0.1:{server.effective_port}")
        hub.app, hub.port, hub.server, hub.thread = app, server.effective_port, server, thread
        return hub

    @staticmethod
    def _serve(app, port):  # type: ignore[no-untyped-def]
        from tests.conftest import start_waitress

        return start_waitress(app, port)

    def drop(self, stall: bool = False) -> None:
        """The Wi-Fi drops: connections are refused at once, or with ``stall`` taken and never
        answered, until ``restore``."""
        from tests.conftest import stop_waitress

        stop_waitress(self.server, self.thread)  # kept-alive connections drop too
        self.server = None
        self.refuser = _Refuser(int(self.port), stall=stall)

    def restore(self) -> None:
        self.refuser.close()
        self.refuser = None
        self.server, self.thread = self._serve(self.app, self.port)

    def close(self) -> None:
        from tests.conftest import stop_waitress

        if getattr(self, "refuser", None) is not None:
            self.refuser.close()
            self.refuser = None
        if self.server is not None:
            stop_waitress(self.server, self.thread)
            self.server = None


@pytest.fixture
def live_hub(app, school):  # type: ignore[no-untyped-def]
    """The test app served by a real waitress server on a free loopback port."""
    hub = LiveHub(app)
    yield hub
    hub.close()


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Into test-artifacts/; the guides' pictures in docs/images are copies of some of these."""
    ARTIFACTS.mkdir(exist_ok=True)
    # The pictures on the page first (a lazy one off the screen loads only when scrolled to).
    page.wait_for_function("() => [...document.images].every(i => i.complete || i.loading === 'lazy')")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
