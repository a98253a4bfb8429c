"""A network that goes silent between a workstation and its server, for tests.

A cable pulled or a switch switched off sends nothing back: no refusal, no reset, not even
the acknowledgements TCP waits for. A proxy that merely stops copying bytes does not do that:
its own operating system still acknowledges what arrives, and the client never learns. So
``SilentNetwork`` puts the test's thread in a network namespace of its own (its loopback
belongs to the test alone) with a small TCP proxy on 127.0.0.1 that forwards to the sandbox
server's unix socket; ``go_silent`` makes the kernel drop every packet to and from the
proxy's port (``ip rule ... blackhole``), ``speak_again`` lets them through again. Needs the
rights to make a network namespace (root); tests skip without them.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import subprocess
import threading
from pathlib import Path

CLONE_NEWNET = 0x40000000


class NoNamespace(Exception):
    """This process may not make a network namespace (not root)."""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


class SilentNetwork:
    def __init__(self, server_socket: Path):
        self.server_socket = server_socket
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        if self._libc.unshare(CLONE_NEWNET) != 0:
            os.close(self._home)
            raise NoNamespace(os.strerror(ctypes.get_errno()))
        self._silent = False
        self._lock = threading.Lock()
        self._limit: threading.Timer | None = None
        self._pairs: list[socket.socket] = []
        try:
            _ip("link", "set", "lo", "up")
            # Addresses of this host are looked up first of all; the black hole must come
            # before that, so the local table moves after it (in this namespace only).
            _ip("rule", "add", "pref", "32765", "lookup", "local")
            _ip("rule", "del", "pref", "0")
            self._listener = socket.create_server(("127.0.0.1", 0))
        except BaseException:
            self.close()
            raise
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, name="proxy", daemon=True).start()

    def url(self, dbname: str, user: str = "ptdoc_app") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}?sslmode=disable"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(str(self.server_socket))
            self._pairs += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def go_silent(self, at_most: float = 45) -> None:
        """Silent until ``speak_again``, or ``at_most`` seconds: a client that never notices
        then fails its test instead of waiting for the system's quarter of an hour."""
        with self._lock:
            for pref, way in (("10", "dport"), ("11", "sport")):
                _ip("rule", "add", "pref", pref, "ipproto", "tcp", way, str(self.port),
                    "blackhole")
            self._silent = True
        # Made on this thread, the timer's thread is in this namespace too.
        self._limit = threading.Timer(at_most, self.speak_again)
        self._limit.start()

    def speak_again(self) -> None:
        with self._lock:
            if self._silent:
                for pref in ("10", "11"):
                    _ip("rule", "del", "pref", pref)
                self._silent = False
        if self._limit is not None and self._limit is not threading.current_thread():
            self._limit.cancel()

    def close(self) -> None:
        """Back to the machine's network; the namespace goes with its last socket."""
        with contextlib.suppress(AttributeError, OSError):
            self._listener.close()
        for sock in self._pairs:
            with contextlib.suppress(OSError):
                sock.close()
        self._libc.setns(self._home, CLONE_NEWNET)
        os.close(self._home)
