"""A TCP proxy on loopback that breaks connections the way a bad link does, at random byte
offsets: cuts a request short, cuts or drops the answer after the server acted, flips a bit on
the way, or stalls until the client gives up. Faults are drawn from a seeded random source, so
a failing run can be replayed."""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass, field

FAULTS = ("ok", "ok", "cut_request", "cut_response", "drop_response", "flip_request", "flip_response",
          "stall_response")


@dataclass
class BreakingProxy:
    upstream: tuple[str, int]
    seed: int = 0
    faulty: bool = True
    connections: int = 0
    applied: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        self.thread.join(timeout=5)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                fault = self.random.choice(FAULTS) if self.faulty else "ok"
                at = self.random.randrange(1, 400)
                self.applied.append(fault)
                seed = self.random.randrange(2**32)
            threading.Thread(target=self._serve, args=(client, fault, at, seed), daemon=True).start()

    def _serve(self, client: socket.socket, fault: str, at: int, seed: int) -> None:
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        done = threading.Event()

        def close_both() -> None:
            done.set()
            for sock in (client, server):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

        def pump(source: socket.socket, sink: socket.socket, direction: str) -> None:
            sent = 0
            rng = random.Random(seed + (direction == "response"))
            try:
                while not done.is_set():
                    data = source.recv(65536)
                    if not data:
                        break
                    if fault == f"cut_{direction}" and sent + len(data) >= at:
                        sink.sendall(data[: max(0, at - sent)])
                        break
                    if fault == "drop_response" and direction == "response":
                        continue  # the server acted; its answer never arrives
                    if fault == "stall_response" and direction == "response":
                        done.wait()  # until the client gives up and the other side closes
                        break
                    if fault == f"flip_{direction}" and sent <= at < sent + len(data):
                        i = at - sent
                        data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
                    sink.sendall(data)
                    sent += len(data)
            except OSError:
                pass
            if fault == "drop_response" and direction == "response":
                pass
            close_both()

        threading.Thread(target=pump, args=(server, client, "response"), daemon=True).start()
        pump(client, server, "request")
