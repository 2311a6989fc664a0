"""A real assay-web keeps answering while clients misbehave: slowloris
clients dripping a request byte by byte, 300 idle sockets, half-open and
reset connections, requests that are never read, oversized headers,
URLs and bodies, and malformed requests.  During each an ordinary GET
succeeds; each bad request gets its status (400, 413, 414, 431, 505)
or, for a line that is no request at all, the connection closed; idle
and stalled connections are closed once web.json's timeout_seconds has
passed; and the server never crashes (no trace in logs/traces.log).
"""
import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest

from assay_helpers import exe, poll
from pipeline import pipeline  # noqa: F401

TIMEOUT_S = 2   # web.json timeout_seconds: idle connections are closed after it


@pytest.fixture
def web(pipeline):
    """An assay-web on a fresh spool (no scheduler), port from the system:
    (Popen, port, spool)."""
    spool = pipeline()
    with open(spool.path("web.json"), "w") as f:
        json.dump({"timeout_seconds": TIMEOUT_S}, f)
    p = subprocess.Popen([exe("assay-web"), "--spool", spool.root, "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:"), line
    yield p, int(line.rsplit(":", 1)[1]), spool
    p.terminate()
    p.wait(30)


def ordinary_get(port):
    """An ordinary client's GET /metrics answers 200 with the page."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=20) as r:
        body = r.read().decode()
    assert r.status == 200 and "assay_build_info" in body


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s


def status_of(port, data):
    """The status the server answers DATA with; None when it closes the
    connection without an answer."""
    s = connect(port)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass   # it may answer and close before reading it all
    got = b""
    try:
        while b"\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass
    s.close()
    if not got:
        return None
    return int(got.split(b" ", 2)[1])


def closed_by_server(sock):
    """True once the server has closed SOCK (EOF or reset)."""
    sock.setblocking(False)
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except (ConnectionResetError, OSError):
        return True


def alive(proc, spool):
    assert proc.poll() is None, "assay-web died"
    traces = spool.path("logs", "traces.log")
    assert not os.path.exists(traces) or os.path.getsize(traces) == 0, open(traces).read()


def test_slowloris_clients_do_not_starve_others(web):
    proc, port, spool = web
    slow = [connect(port) for _ in range(100)]
    for s in slow:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    # Each drips a header byte every half second, never ending its request.
    for round_ in range(6):
        for s in slow:
            s.sendall(b"X")
        ordinary_get(port)
        time.sleep(0.5)
    alive(proc, spool)
    # Once they stop dripping, the server closes them after its timeout.
    assert poll(lambda: all(closed_by_server(s) for s in slow), 60, 0.2), \
        "stalled slow clients were not closed"
    for s in slow:
        s.close()
    ordinary_get(port)


def test_300_idle_sockets(web):
    proc, port, spool = web
    idle = [connect(port) for _ in range(300)]
    ordinary_get(port)
    ordinary_get(port)
    alive(proc, spool)
    assert poll(lambda: all(closed_by_server(s) for s in idle), 60, 0.2), \
        "idle connections were not closed after timeout_seconds"
    for s in idle:
        s.close()
    ordinary_get(port)


def test_half_open_reset_and_unread_connections(web):
    proc, port, spool = web
    kept = []
    # The client shuts its sending side half way through a request.
    for _ in range(20):
        s = connect(port)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Half: ")
        s.shutdown(socket.SHUT_WR)
        kept.append(s)
    # A body announced but never sent.
    for _ in range(20):
        s = connect(port)
        s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nuser=a")
        kept.append(s)
    ordinary_get(port)
    # Requests whose answers are never read, pipelined until the socket fills.
    for _ in range(10):
        s = connect(port)
        s.setblocking(False)
        try:
            for _ in range(2000):
                s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        except (BlockingIOError, ConnectionResetError, BrokenPipeError):
            pass
        kept.append(s)
    ordinary_get(port)
    # Connections reset (RST, no FIN) right after their request.
    for _ in range(50):
        s = connect(port)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    ordinary_get(port)
    alive(proc, spool)
    for s in kept:
        s.close()
    ordinary_get(port)


def test_oversized_and_malformed_requests(web):
    proc, port, spool = web
    cases = [
        ("a 200 KB header", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",
         431),
        ("20,000 headers", b"GET / HTTP/1.1\r\nHost: x\r\n" +
         b"".join(b"X-%d: y\r\n" % i for i in range(20000)) + b"\r\n", 431),
        ("a 200 KB URL", b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("a 10 MB body announced", b"POST /login HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: 10000000\r\n\r\n" + b"a" * 1000, 413),
        ("a 2 MB chunked body", b"POST /login HTTP/1.1\r\nHost: x\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n" +
         (b"100000\r\n" + b"a" * 0x100000 + b"\r\n") * 2 + b"0\r\n\r\n", 413),
        ("a header line without a colon", b"GET / HTTP/1.1\r\nHost: x\r\nbroken\r\n\r\n", 400),
        ("a Content-Length that is no number", b"POST /login HTTP/1.1\r\nHost: x\r\n"
         b"Content-Length: abc\r\n\r\n", 400),
        ("an unknown HTTP version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 505),
        ("a line that is no request", b"GARBAGE\r\n\r\n", None),
        ("TLS sent to plain HTTP", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 +
         b"\r\n\r\n", None),
    ]
    got = {}
    for what, data, _ in cases:
        got[what] = status_of(port, data)
        ordinary_get(port)
    assert got == {what: want for what, _, want in cases}
    alive(proc, spool)
