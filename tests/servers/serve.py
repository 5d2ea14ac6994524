#!/usr/bin/python3
"""serve.py — start one test server on 127.0.0.1, on a free port, for the
remote-IO tests, and stop it when told.

    serve.py nginx ROOT        nginx (Debian nginx-light) serving ROOT; PUT and
                               DELETE too (WebDAV) where nginx has http_dav_module
    serve.py s3rver DIR        s3rver (tests/node) storing in DIR; key S3RVER/S3RVER,
                               buckets --bucket NAME (repeatable; default lsio-test)
    serve.py nginx-tls ROOT    the same over TLS with HTTP/2 (a self-signed
                               certificate for 127.0.0.1 made with openssl); the
                               access log ("protocol connection request status bytes
                               msec request_time") goes
                               to $LSIO_SERVE_LOG when set
    serve.py faulty ROOT       tests/servers/faulty.py (fault injection) serving ROOT

Prints "PORT <n>" on stdout once the server accepts connections (or
"SKIP <reason>" and exits 77 when the server is not installed), then waits.
It stops the server and exits on SIGTERM/SIGINT, when its parent process
goes away, or after --lifetime seconds (default 300), so a crashed test
never leaves a server behind. Used by tests/http/*.c (through
tests/http/http_testutil.h), tests/python/test_remote_*.py and bench/remote.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUCKETS = []
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

NGINX_CONF = """daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    {access_log}
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_max_body_size 0;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ application/octet-stream bin; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port} backlog=4096{tls};
        {cert}
        root {root};
        location / {{ {dav} }}
    }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, proc, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def skip(reason):
    print("SKIP " + reason, flush=True)
    sys.exit(77)


def start(kind, root, port, tmp):
    if kind in ("nginx", "nginx-tls"):
        exe = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if not exe:
            skip("nginx is not installed (apt-get install nginx-light)")
        conf = os.path.join(tmp, "nginx.conf")
        v = subprocess.run([exe, "-V"], capture_output=True, text=True)
        v = v.stdout + v.stderr
        dav = ("dav_methods PUT DELETE; create_full_put_path on; dav_access user:rw group:r all:r;"
               if "http_dav_module" in v else "")
        tls = cert = ""
        log = os.environ.get("LSIO_SERVE_LOG")
        access_log = ('log_format lsio "$server_protocol $connection $request $status $body_bytes_sent $msec $request_time"; access_log %s lsio;' % log
                      if log else "access_log off;")
        if kind == "nginx-tls":
            if "http_ssl_module" not in v or "http_v2_module" not in v:
                skip("nginx lacks http_ssl_module or http_v2_module")
            if not shutil.which("openssl"):
                skip("openssl is not installed")
            crt, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                "-keyout", key, "-out", crt], capture_output=True)
            if r.returncode != 0:
                skip("openssl could not make a certificate")
            tls = " ssl http2"
            cert = "ssl_certificate %s; ssl_certificate_key %s;" % (crt, key)
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(prefix=tmp, port=port, root=os.path.abspath(root), dav=dav,
                                      tls=tls, cert=cert, access_log=access_log))
        return subprocess.Popen([exe, "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "error.log")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    if kind == "s3rver":
        js = os.path.join(REPO, "tests/node/node_modules/s3rver/bin/s3rver.js")
        node = shutil.which("node")
        if not node or not os.path.exists(js):
            skip("s3rver is not installed (node and tests/node/node_modules/s3rver)")
        os.makedirs(root, exist_ok=True)
        buckets = []
        for b in BUCKETS:
            buckets += ["--configure-bucket", b]
        # s3rver's continuation tokens use DES, which OpenSSL 3 keeps in
        # its legacy provider: without it a listing of > 1000 keys fails
        return subprocess.Popen([node, "--openssl-legacy-provider", js, "-d", root, "-a", "127.0.0.1", "-p", str(port), "--silent",
                                 "--no-vhost-buckets"] + buckets,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    if kind == "faulty":
        return subprocess.Popen([sys.executable, os.path.join(HERE, "faulty.py"), root, str(port)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    skip("unknown server kind " + kind)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["nginx", "nginx-tls", "s3rver", "faulty"])
    ap.add_argument("root")
    ap.add_argument("--lifetime", type=float, default=300.0)
    ap.add_argument("--bucket", action="append", default=[])
    a = ap.parse_args()
    BUCKETS[:] = a.bucket or ["lsio-test"]
    parent = os.getppid()
    tmp = tempfile.mkdtemp(prefix="lsio-%s." % a.kind)
    proc = None
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    try:
        for _ in range(3):  # the free port may be taken between bind and listen
            port = free_port()
            proc = start(a.kind, a.root, port, tmp)
            if wait_ready(port, proc):
                break
            proc.kill()
            proc.wait()
            proc = None
        if proc is None:
            log = os.path.join(tmp, "error.log")
            detail = open(log).read()[-300:] if os.path.exists(log) else ""
            print("SKIP %s did not start %s" % (a.kind, detail.replace("\n", " ")), flush=True)
            sys.exit(77)
        print("PORT %d" % port, flush=True)
        end = time.time() + a.lifetime
        while not stop and time.time() < end and os.getppid() == parent and proc.poll() is None:
            time.sleep(0.1)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
