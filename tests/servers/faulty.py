#!/usr/bin/python3
"""faulty.py — an HTTP/1.1 file server on 127.0.0.1 that misbehaves on
purpose, for the retry and length checks of LSIO's http backend.

    faulty.py ROOT PORT

GET/HEAD /<mode>/<n>/<file> serves ROOT/<file>; the first n requests for
that exact path and query (n = "always": every request) get the fault <mode>, later
ones are served correctly (Range supported, keep-alive). Modes:

    ok       no fault
    500 503 429 404   that status, small body
    stall    send nothing for 8 s, then close
    short    correct headers, half the body, then close
    reset    close the connection with a TCP reset (SO_LINGER 0)
    badcr    206 whose Content-Range and body start one byte later
    nocr     206 without Content-Range
    longer   206 with a correct Content-Range but a body one byte longer
    full     ignore Range: 200 with the whole file
    slowfull 200 with the whole file (ignores Range), sent in small pieces
    lat<ms>  served correctly after <ms> milliseconds (default 20): a
             distant store (benchmarks)
    nosfx    a suffix range "bytes=-N" answered as "bytes=0-N" (as s3rver)
    nolen    200 with the whole file (ignores Range), no Content-Length: its
             end is the connection's

GET /_count/<path> answers how many requests <path> has had.
"""
import os
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
COUNTS = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_simple(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/_count/"):
            with LOCK:
                n = COUNTS.get(self.path[len("/_count"):], 0)  # query included
            return self.send_simple(200, str(n).encode())
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1  # the query counts apart
            count = COUNTS[self.path]
        m = re.match(r"^/([a-z0-9]+)/(always|\d+)/(.+)$", path)
        if not m:
            return self.send_simple(404, b"bad path")
        mode, n, name = m.group(1), m.group(2), m.group(3)
        fault = mode if (n == "always" or count <= int(n)) else "ok"
        fpath = os.path.join(ROOT, name)
        if not os.path.isfile(fpath):
            return self.send_simple(404, b"no such file")
        with open(fpath, "rb") as f:
            data = f.read()
        size = len(data)
        if fault in ("500", "503", "429", "404"):
            return self.send_simple(int(fault), b"<Error>injected</Error>",
                                    [("Retry-After", "0")] if fault == "429" else [])
        if fault.startswith("lat"):  # lat<ms>: a store this far away, then ok
            time.sleep(int(fault[3:] or 20) / 1000.0)
            fault = "ok"
        if fault == "stall":
            time.sleep(8)
            self.close_connection = True
            return
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        rng = self.headers.get("Range")
        a, b = 0, size - 1
        partial = False
        if rng and fault not in ("full", "slowfull", "nolen"):
            mm = re.match(r"bytes=(\d+)-(\d*)$", rng)
            ms = re.match(r"bytes=-(\d+)$", rng)  # suffix: the last N bytes
            if ms and fault == "nosfx":  # as s3rver: "-N" read as "0-N"
                a, b, partial = 0, min(int(ms.group(1)), size - 1), True
            elif ms:
                if size == 0 or int(ms.group(1)) == 0:
                    return self.send_simple(416, b"", [("Content-Range", "bytes */%d" % size)])
                a, partial = max(0, size - int(ms.group(1))), True
            elif mm:
                a = int(mm.group(1))
                b = min(int(mm.group(2)) if mm.group(2) else size - 1, size - 1)
                if a >= size:
                    return self.send_simple(416, b"", [("Content-Range", "bytes */%d" % size)])
                partial = True
        if fault == "badcr" and partial:
            a += 1
            b = min(b + 1, size - 1)
        body = data[a:b + 1]
        if fault == "longer" and partial:
            body = data[a:b + 2] + (b"x" if b + 1 >= size else b"")
        self.send_response(206 if partial else 200)
        if partial and fault != "nocr":
            self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, size))
        if fault == "nolen":  # the length only by closing the connection
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault == "short":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "slowfull":
            for i in range(0, len(body), 4096):
                self.wfile.write(body[i:i + 4096])
            return
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # 32 connections at once: no SYN dropped (1 s resend)

    def handle_error(self, request, client_address):
        pass  # clients that hang up (resets, aborted transfers) are expected


if __name__ == "__main__":
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    Server(("127.0.0.1", port), Handler).serve_forever()
