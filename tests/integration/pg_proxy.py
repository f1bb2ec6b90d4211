"""A TCP proxy between the tracker and PostgreSQL that can lose the server's answer to a COMMIT.

It forwards every byte unchanged, in both directions, on loopback, and reads the PostgreSQL wire protocol
(version 3) just enough to see transactions end. When armed (:meth:`PgProxy.drop_commit_replies`), it lets
the client's COMMIT through to the server, waits for the server's ``CommandComplete`` of that COMMIT (so the
transaction really is committed), and then closes both sockets instead of forwarding it: the client is left
not knowing whether its write went through, which is what a database restart, a failover or a network fault
at the wrong moment does.

Which COMMIT: psycopg 3 sends a transaction's COMMIT as a simple ``Query`` (``Q``) outside pipeline mode, and
through the extended protocol (``Parse``/``Bind``/``Execute`` of the unnamed statement) in pipeline mode,
which is how the eventsourcing library inserts events. Both are recognised. The proxy can be restricted to
the COMMIT of a transaction that sent a statement matching a pattern (for instance the insert into the
events table), so that the tracker's other transactions (its idempotency keys, the read models) go through.

The startup is forwarded as it is: an ``SSLRequest`` or ``GSSENCRequest`` and the server's one-byte answer,
then the ``StartupMessage``; should the server accept encryption the proxy can no longer read the traffic
and only forwards it (the test clusters do not offer TLS, so libpq's default ``sslmode=prefer`` goes plain).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Self

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
PROTOCOL_3 = 196608

_COMMIT = re.compile(rb"\s*(COMMIT|END)\s*;?\s*$", re.IGNORECASE)
_ENDS_TRANSACTION = re.compile(rb"\s*(COMMIT|END|ROLLBACK|ABORT)\b", re.IGNORECASE)


def _read_exact(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_message(sock: socket.socket) -> tuple[bytes, bytes]:
    """One typed message: its type byte and its payload (without the length)."""
    header = _read_exact(sock, 5)
    (length,) = struct.unpack("!I", header[1:])
    return header[:1], _read_exact(sock, length - 4) if length > 4 else b""


def _cstring(payload: bytes, start: int = 0) -> tuple[bytes, int]:
    end = payload.index(b"\0", start)
    return payload[start:end], end + 1


def _short(text: bytes) -> str:
    return " ".join(text.decode("utf-8", "replace").split())[:70]


def _sqlstate(payload: bytes) -> str:
    """The SQLSTATE field of an ErrorResponse."""
    for part in payload.split(b"\0"):
        if part[:1] == b"C":
            return part[1:].decode("ascii", "replace")
    return "?"


@dataclass
class _Connection:
    """One client's connection through the proxy, with what the protocol parser knows of it."""

    client: socket.socket
    server: socket.socket
    number: int
    statements: dict[bytes, bytes] = field(default_factory=dict)  # prepared statement -> its text
    portals: dict[bytes, bytes] = field(default_factory=dict)  # portal -> its statement's text
    matched: bool = False  # the open transaction sent a statement matching the proxy's pattern
    units_sent: int = 1  # the startup, simple queries and Syncs sent: each is answered by one ReadyForQuery
    units_answered: int = 0  # ReadyForQuery messages received
    drop_unit: int | None = None  # the unit of a COMMIT forwarded whose answer is to be dropped
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for sock in (self.client, self.server):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class PgProxy:
    """``PgProxy(host, port)``: a proxy to that PostgreSQL server on ``127.0.0.1:self.port`` (ephemeral).

    ``wire`` keeps the most recent protocol messages seen (direction, type, a short text) for a test to print;
    ``dropped`` counts the COMMIT answers it dropped, ``commits`` how each COMMIT it saw was sent."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._armed = 0
        self._pattern: re.Pattern[bytes] | None = None
        self._connections: list[_Connection] = []
        self._opened = 0
        self._then_down = False
        self._down = threading.Event()
        self._stopped = threading.Event()
        self.dropped = 0
        self.commits: list[str] = []  # "simple" or "extended", per COMMIT seen
        self.wire: deque[str] = deque(maxlen=20000)
        self._accepter = threading.Thread(target=self._accept, name="pg-proxy", daemon=True)

    def __enter__(self) -> Self:
        self._accepter.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what a test does ------------------------------------------------------------------------------------

    def drop_commit_replies(self, times: int = 1, after: bytes | None = None, *, then_down: bool = False) -> None:
        """Drop the server's answer to the next ``times`` COMMITs (of a transaction that sent a statement
        matching the regular expression ``after``, when given), closing that connection instead. With
        ``then_down`` the server also seems to go away at that moment: every connection is closed and new
        ones are closed at once, until :meth:`up`."""
        with self._lock:
            self._armed = times
            self._then_down = then_down
            self._pattern = re.compile(after, re.IGNORECASE | re.DOTALL) if after is not None else None
            self.wire.clear()  # from now on: what the armed proxy saw

    @property
    def down(self) -> bool:
        """Whether the proxy refuses connections (the server seems gone)."""
        return self._down.is_set()

    def up(self) -> None:
        """Accept connections again."""
        self._down.clear()

    def _close_all(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close()

    @property
    def armed(self) -> int:
        """How many COMMIT answers are still to be dropped."""
        with self._lock:
            return self._armed

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        self._close_all()

    # --- the proxy -------------------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down.is_set():  # as a stopped server: the connection ends at once
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), name="pg-proxy-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.target, timeout=10)
            server.settimeout(None)
        except OSError:
            client.close()
            return
        with self._lock:
            self._opened += 1
            connection = _Connection(client, server, self._opened)
            self._connections.append(connection)
        try:
            typed = self._startup(connection)
        except (EOFError, OSError):
            connection.close()
            return
        if typed:
            up = threading.Thread(target=self._client_to_server, args=(connection,), daemon=True)
            up.start()
            self._server_to_client(connection)
            up.join()
        else:  # encrypted or a cancel request: forward without reading
            up = threading.Thread(target=self._raw, args=(connection, client, server), daemon=True)
            up.start()
            self._raw(connection, server, client)
            up.join()
        with self._lock:
            self._connections.remove(connection)

    def _startup(self, connection: _Connection) -> bool:
        """Forward the untyped startup packets; True when typed messages follow that the proxy can read."""
        while True:
            header = _read_exact(connection.client, 8)
            length, code = struct.unpack("!II", header)
            packet = header + _read_exact(connection.client, length - 8)
            connection.server.sendall(packet)
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                answer = _read_exact(connection.server, 1)
                connection.client.sendall(answer)
                request = "SSLRequest" if code == SSL_REQUEST else "GSSENCRequest"
                self.wire.append(f"#{connection.number} C>S {request}; S>C {answer.decode()}")
                if answer != b"N":
                    return False
                continue
            if code == CANCEL_REQUEST:
                return False
            self.wire.append(f"#{connection.number} C>S StartupMessage")
            return code == PROTOCOL_3

    def _raw(self, connection: _Connection, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        connection.close()

    def _note(self, connection: _Connection, text: bytes) -> None:
        """A statement the client sent in the open transaction."""
        pattern = self._pattern
        if pattern is not None and pattern.search(text):
            connection.matched = True

    def _ends(self, connection: _Connection, text: bytes, protocol: str) -> None:
        """A statement is about to be forwarded: when it is a COMMIT the proxy is armed for, mark its answer."""
        if not _ENDS_TRANSACTION.match(text):
            return
        if _COMMIT.match(text):
            self.commits.append(protocol)
            with self._lock:
                if self._armed and connection.drop_unit is None and (self._pattern is None or connection.matched):
                    self._armed -= 1
                    # a simple query is its own unit; an Execute's unit ends with the next Sync
                    connection.drop_unit = connection.units_sent
        connection.matched = False

    def _client_to_server(self, connection: _Connection) -> None:
        try:
            while True:
                kind, payload = _read_message(connection.client)
                text = b""
                if kind == b"Q":  # simple query
                    text = payload.rstrip(b"\0")
                    self._note(connection, text)
                    self._ends(connection, text, "simple")
                elif kind == b"P":  # Parse: name, query
                    name, at = _cstring(payload)
                    text, _ = _cstring(payload, at)
                    connection.statements[name] = text
                elif kind == b"B":  # Bind: portal, statement
                    portal, at = _cstring(payload)
                    statement, _ = _cstring(payload, at)
                    connection.portals[portal] = connection.statements.get(statement, b"")
                elif kind == b"E":  # Execute: portal
                    portal, _ = _cstring(payload)
                    text = connection.portals.get(portal, b"")
                    self._note(connection, text)
                    self._ends(connection, text, "extended")
                if kind in (b"Q", b"S"):
                    with self._lock:
                        connection.units_sent += 1
                if text.strip():
                    self.wire.append(f"#{connection.number} C>S {kind.decode()} {_short(text)}")
                elif kind == b"X":
                    self.wire.append(f"#{connection.number} C>S X (Terminate)")
                connection.server.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)
                if kind == b"X":  # Terminate
                    return
        except (EOFError, OSError, ValueError):
            pass
        finally:
            connection.close()

    def _server_to_client(self, connection: _Connection) -> None:
        try:
            while True:
                kind, payload = _read_message(connection.server)
                tag = payload.rstrip(b"\0") if kind == b"C" else b""
                with self._lock:
                    dropping = connection.drop_unit == connection.units_answered
                    if dropping and kind == b"C" and _COMMIT.match(tag):
                        # committed on the server: the client never hears of it
                        self.dropped += 1
                        self.wire.append(f"#{connection.number} S>C C COMMIT  <- dropped: both sockets closed")
                        if self._then_down:
                            self.wire.append("(the server seems gone: every connection closed, new ones refused)")
                            self._down.set()
                            threading.Thread(target=self._close_all, daemon=True).start()
                        return
                    if kind == b"Z":
                        if dropping:  # the COMMIT's unit ended without committing (an error): nothing dropped
                            connection.drop_unit = None
                            self._armed += 1
                        connection.units_answered += 1
                if kind == b"C":
                    self.wire.append(f"#{connection.number} S>C C {tag.decode('utf-8', 'replace')}")
                elif kind == b"E":
                    self.wire.append(f"#{connection.number} S>C E (ErrorResponse {_sqlstate(payload)})")
                connection.client.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)
        except (EOFError, OSError):
            pass
        finally:
            connection.close()
