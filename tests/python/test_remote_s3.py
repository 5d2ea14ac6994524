"""The s3 backend with boto3 as the second client, against s3rver on
127.0.0.1: objects boto3 writes, LSIO reads (whole, ranges, from the end,
sizes, listings with pagination) and the other way round; deletes seen
from both sides. And the SigV4 signature LSIO (libcurl) sends, checked
against botocore's signer for the same request: s3rver does not verify V4
signatures, so a small local server records LSIO's requests and botocore
recomputes each one's Authorization from its method, URL, headers and
x-amz-date."""
import hashlib
import http.server
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
import harness  # noqa: E402

BUCKET = "lsio-py"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    pytest.importorskip("boto3")
    root = tmp_path_factory.mktemp("s3rver")
    try:
        with harness.server("s3rver", root, buckets=[BUCKET]) as port:
            yield port
    except harness.Skip as e:
        pytest.skip(str(e))


@pytest.fixture
def lsio_s3(s3, monkeypatch):
    for k, v in harness.s3_env(s3).items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_NO_SIGN_REQUEST", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(k, raising=False)
    try:
        io = harness.Lsio("s3://%s/" % BUCKET)
    except harness.Skip as e:
        pytest.skip(str(e))
    assert io.backend() == "s3"
    yield io
    io.close()


def blob(n, seed):
    out = bytearray()
    h = hashlib.sha256(b"%d" % seed).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h
    return bytes(out[:n])


KEYS = ["plain.bin", "dir/sub/x.bin", "with space/a+b=c.bin", "unicodé/ключ.bin", "tilde~/(p).bin"]


def test_boto3_writes_lsio_reads(s3, lsio_s3):
    c = harness.boto3_client(s3)
    objs = {k: blob(1000 + 37 * i, i) for i, k in enumerate(KEYS)}
    objs["big.bin"] = blob(5 << 20, 99)
    for k, v in objs.items():
        c.put_object(Bucket=BUCKET, Key="b2l/" + k, Body=v)
    for k, v in objs.items():
        loc = "s3://%s/b2l/%s" % (BUCKET, k)
        assert lsio_s3.size(loc) == len(v), k
        assert lsio_s3.read(loc) == v, k
        assert lsio_s3.read(loc, 17, 100) == v[17:117], k
        assert lsio_s3.read(loc, -50) == v[-50:], k
    big = objs["big.bin"]
    assert lsio_s3.read("s3://%s/b2l/big.bin" % BUCKET, 3 << 20, 1 << 20) == big[3 << 20:4 << 20]
    listed = dict(lsio_s3.list("s3://%s/b2l/" % BUCKET))
    assert listed == {"s3://%s/b2l/%s" % (BUCKET, k): len(v) for k, v in objs.items()}
    # what boto3 lists is what LSIO lists
    bl = c.list_objects_v2(Bucket=BUCKET, Prefix="b2l/")["Contents"]
    assert sorted("s3://%s/%s" % (BUCKET, o["Key"]) for o in bl) == sorted(listed)


def test_lsio_writes_boto3_reads(s3, lsio_s3):
    c = harness.boto3_client(s3)
    objs = {k: blob(500 + 11 * i, 100 + i) for i, k in enumerate(KEYS)}
    objs["empty.bin"] = b""
    objs["big.bin"] = blob(3 << 20, 7)
    for k, v in objs.items():
        lsio_s3.write("s3://%s/l2b/%s" % (BUCKET, k), v)
    for k, v in objs.items():
        r = c.get_object(Bucket=BUCKET, Key="l2b/" + k)
        assert r["Body"].read() == v, k
        assert r["ContentLength"] == len(v)
    # overwrite, then delete from LSIO: boto3 sees both
    lsio_s3.write("s3://%s/l2b/plain.bin" % BUCKET, b"second")
    assert c.get_object(Bucket=BUCKET, Key="l2b/plain.bin")["Body"].read() == b"second"
    lsio_s3.delete("s3://%s/l2b/plain.bin" % BUCKET)
    with pytest.raises(c.exceptions.NoSuchKey):
        c.get_object(Bucket=BUCKET, Key="l2b/plain.bin")
    # boto3 deletes, LSIO gets ENOENT naming the key
    c.delete_object(Bucket=BUCKET, Key="l2b/dir/sub/x.bin")
    with pytest.raises(harness.LsioError) as e:
        lsio_s3.read("s3://%s/l2b/dir/sub/x.bin" % BUCKET)
    assert e.value.rc == -2 and "l2b/dir/sub/x.bin" in e.value.msg and "404" in e.value.msg


def test_listing_pages_match_boto3(s3, lsio_s3):
    """1003 keys: s3rver pages at 1000, so LSIO follows a continuation token."""
    import concurrent.futures as cf
    c = harness.boto3_client(s3)
    keys = ["pages/k%05d" % i for i in range(1003)]
    with cf.ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda k: c.put_object(Bucket=BUCKET, Key=k, Body=k.encode()), keys))
    got = lsio_s3.list("s3://%s/pages/" % BUCKET)
    assert [loc for loc, _ in got] == ["s3://%s/%s" % (BUCKET, k) for k in keys]
    assert all(size == len(loc) - len("s3://%s/" % BUCKET) for loc, size in got)


def test_credentials_not_in_errors(s3, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:%d" % s3)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSHOULDNOTSHOW")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SECRETSHOULDNOTSHOW")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "TOKENSHOULDNOTSHOW")
    with harness.Lsio("s3://%s/" % BUCKET) as io:
        for call in (lambda: io.read("s3://%s/x" % BUCKET), lambda: io.size("s3://%s/x" % BUCKET),
                     lambda: io.list("s3://%s/" % BUCKET), lambda: io.write("s3://%s/x" % BUCKET, b"1")):
            with pytest.raises(harness.LsioError) as e:
                call()
            assert e.value.rc == -13, e.value.msg  # EACCES: s3rver knows no such key id
            assert "SHOULDNOTSHOW" not in e.value.msg


# ------------------------------------------------------------------ SigV4

class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers like S3 just enough for LSIO to go on; records each request."""
    protocol_version = "HTTP/1.1"
    seen = []
    body = blob(4096, 1)

    def log_message(self, *a):
        pass

    def _record(self):
        n = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(n) if n else b""
        self.seen.append((self.command, self.path, dict(self.headers.items()), payload))

    def _reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        self._record()
        if "list-type=2" in self.path:
            xml = (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name>'
                   b"<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>")
            return self._reply(200, xml, [("Content-Type", "application/xml")])
        rng = self.headers.get("Range")
        if rng:
            a, b = (int(x) for x in rng.split("=")[1].split("-"))
            return self._reply(206, self.body[a:b + 1],
                               [("Content-Range", "bytes %d-%d/%d" % (a, b, len(self.body)))])
        return self._reply(200, self.body)

    def do_HEAD(self):
        self._record()
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()

    def do_PUT(self):
        self._record()
        self._reply(200, b"", [("ETag", '"abc"')])

    def do_DELETE(self):
        self._record()
        self._reply(204)


@pytest.fixture
def recorder():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.seen = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def botocore_signature(method, url, headers, region, key, secret, token=None):
    """botocore's S3 SigV4 signature of a request with the given headers
    (those LSIO signed) at the x-amz-date it carried."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    auth = S3SigV4Auth(Credentials(key, secret, token), "s3", region)
    req = AWSRequest(method=method, url=url, headers=headers)
    req.context["timestamp"] = headers["x-amz-date"]
    canonical = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canonical)
    return auth.signature(sts, req), auth.signed_headers(auth.headers_to_sign(req)), canonical


KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def signing_env(monkeypatch, port, region, token=None):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:%d" % port)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_REGION", region)
    for k in ("AWS_NO_SIGN_REQUEST", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    if token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    else:
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


def check_signed(method, path, hdrs, port, region, token=None):
    """The Authorization LSIO sent is the one botocore computes."""
    h = {k.lower(): v for k, v in hdrs.items()}
    auth = h["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, " %
                           (KEY, h["x-amz-date"][:8], region)), auth
    fields = dict(p.strip().split("=", 1) for p in auth.split(" ", 1)[1].split(","))
    signed = fields["SignedHeaders"].split(";")
    assert {"host", "x-amz-date", "x-amz-content-sha256"} <= set(signed), signed
    if token:
        assert "x-amz-security-token" in signed and h["x-amz-security-token"] == token
    assert h["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    url = "http://127.0.0.1:%d%s" % (port, path)
    sig, names, canonical = botocore_signature(method, url, {n: h[n] for n in signed}, region,
                                               KEY, SECRET, token)
    assert names == fields["SignedHeaders"]
    assert sig == fields["Signature"], "%s %s\nbotocore's canonical request:\n%s" % (
        method, path, canonical)
    assert SECRET not in str(hdrs) and SECRET not in path


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEJr//token+/=="])
def test_sigv4_matches_botocore(recorder, monkeypatch, token):
    pytest.importorskip("botocore")
    region = "eu-central-1"
    signing_env(monkeypatch, recorder, region, token)
    b = "sig-bucket"
    with harness.Lsio("s3://%s/" % b) as io:
        assert io.read("s3://%s/dir/a b+c~(1).bin" % b, 100, 200) == Recorder.body[100:300]
        assert io.size("s3://%s/x/y.bin" % b) == len(Recorder.body)
        assert io.list("s3://%s/some prefix/=&x" % b) == []
        io.write("s3://%s/put/obj.bin" % b, b"hello")
        io.delete("s3://%s/put/ünï.bin" % b)
    methods = [s[0] for s in Recorder.seen]
    assert methods == ["GET", "HEAD", "GET", "PUT", "DELETE"], methods
    for method, path, hdrs, _payload in Recorder.seen:
        check_signed(method, path, hdrs, recorder, region, token)
    # the key reached the server as S3 expects it (path-style, RFC 3986)
    assert Recorder.seen[0][1] == "/sig-bucket/dir/a%20b%2Bc~%281%29.bin"
    assert Recorder.seen[3][3] == b"hello"


def test_virtual_hosted_signed(recorder, monkeypatch):
    """path_style=0 on a custom endpoint: the bucket moves into the host name
    (bucket.localhost, which curl resolves to loopback) and the signature
    covers that host."""
    pytest.importorskip("botocore")
    region = "ap-southeast-2"
    signing_env(monkeypatch, recorder, region)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:%d" % recorder)
    with harness.Lsio("s3://vh-bucket/", path_style=0) as io:
        assert io.read("s3://vh-bucket/a/b c.bin", 10, 20) == Recorder.body[10:30]
        assert io.list("s3://vh-bucket/a/") == []
    (m1, p1, h1, _), (m2, p2, h2, _) = Recorder.seen
    assert h1["Host"] == "vh-bucket.localhost:%d" % recorder and p1 == "/a/b%20c.bin"
    assert h2["Host"] == "vh-bucket.localhost:%d" % recorder and p2.startswith("/?list-type=2")
    for method, path, hdrs in ((m1, p1, h1), (m2, p2, h2)):
        hdrs = dict(hdrs)
        check_signed(method, path, hdrs, recorder, region)


def test_unsigned_requests(recorder, s3, monkeypatch):
    """AWS_NO_SIGN_REQUEST=yes (public buckets): no Authorization, no
    credentials needed; s3rver serves such requests."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:%d" % recorder)
    monkeypatch.setenv("AWS_NO_SIGN_REQUEST", "yes")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    with harness.Lsio("s3://pub/") as io:
        assert io.read("s3://pub/x", 0, 10) == Recorder.body[:10]
    assert not any("Authorization" in h or "authorization" in h for _, _, h, _ in Recorder.seen)
    c = harness.boto3_client(s3)
    c.put_object(Bucket=BUCKET, Key="public/obj", Body=b"open data")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:%d" % s3)
    with harness.Lsio("s3://%s/" % BUCKET) as io:
        assert io.read("s3://%s/public/obj" % BUCKET) == b"open data"
    monkeypatch.delenv("AWS_NO_SIGN_REQUEST")
    with pytest.raises(harness.LsioError) as e:  # no credentials, not anonymous
        harness.Lsio("s3://%s/" % BUCKET)
    assert e.value.rc == -13 and "AWS_ACCESS_KEY_ID" in e.value.msg
    with harness.Lsio("s3://%s/" % BUCKET, unsigned_requests=1) as io:  # the option
        assert io.size("s3://%s/public/obj" % BUCKET) == 9


# -------------------------------------------------------------- multipart

class MultipartServer(http.server.BaseHTTPRequestHandler):
    """Just enough of S3's multipart upload API: records every request,
    counts part PUTs in flight, answers part 2's first attempt with 503 and
    part `fail_part` (if set) with 403."""
    protocol_version = "HTTP/1.1"
    seen = []
    parts = {}
    lock = threading.Lock()
    in_flight = 0
    max_in_flight = 0
    fail_part = None
    tried = set()

    def log_message(self, *a):
        pass

    def _reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        with self.lock:
            self.seen.append((self.command, self.path, dict(self.headers.items()), data))
        return data

    def do_POST(self):
        self._body()
        if self.path.endswith("?uploads="):
            return self._reply(200, b"<?xml version=\"1.0\"?><InitiateMultipartUploadResult>"
                               b"<Bucket>b</Bucket><Key>k</Key><UploadId>up/ID+1=</UploadId>"
                               b"</InitiateMultipartUploadResult>")
        return self._reply(200, b"<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>"
                           b"</CompleteMultipartUploadResult>")

    def do_PUT(self):
        import time
        from urllib.parse import parse_qs, urlsplit
        q = parse_qs(urlsplit(self.path).query)
        with self.lock:
            MultipartServer.in_flight += 1
            MultipartServer.max_in_flight = max(MultipartServer.max_in_flight, self.in_flight)
        try:
            data = self._body()
            if "partNumber" not in q:  # a plain PUT
                return self._reply(200, b"", [("ETag", '"p"')])
            time.sleep(0.05)
            n = int(q["partNumber"][0])
            with self.lock:
                first = n not in self.tried
                self.tried.add(n)
            if n == 2 and first:
                return self._reply(503, b"<Error><Code>SlowDown</Code></Error>")
            if n == self.fail_part:
                return self._reply(403, b"<Error><Code>AccessDenied</Code></Error>")
            with self.lock:
                self.parts[n] = data
            self._reply(200, b"", [("ETag", '"%s"' % hashlib.md5(data).hexdigest())])
        finally:
            with self.lock:
                MultipartServer.in_flight -= 1

    def do_DELETE(self):
        self._body()
        self._reply(204)


@pytest.fixture
def mpserver():
    MultipartServer.seen = []
    MultipartServer.parts = {}
    MultipartServer.tried = set()
    MultipartServer.in_flight = MultipartServer.max_in_flight = 0
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), MultipartServer)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_multipart_requests(mpserver, monkeypatch):
    """Initiate, parts in parallel (a 503 retried), Complete listing every
    part's ETag in order; every request signed as botocore signs it."""
    pytest.importorskip("botocore")
    import re
    region = "us-west-2"
    signing_env(monkeypatch, mpserver, region)
    monkeypatch.setenv("LSIO_S3_MULTIPART_THRESHOLD", "1M")
    monkeypatch.setenv("LSIO_S3_PART_SIZE", "256K")
    data = blob(5 * 262144 + 1000, 5)
    with harness.Lsio("s3://mp-bucket/") as io:
        io.write("s3://mp-bucket/big obj.bin", data)
        io.write("s3://mp-bucket/small.bin", data[:(1 << 20) - 1])  # under: one PUT
    seen = MultipartServer.seen
    assert seen[0][0] == "POST" and seen[0][1] == "/mp-bucket/big%20obj.bin?uploads="
    assert seen[0][2].get("Content-Type") == "application/octet-stream"
    uid = "up%2FID%2B1%3D"
    puts = [s for s in seen if s[0] == "PUT" and "partNumber" in s[1]]
    assert sorted(set(p[1] for p in puts)) == ["/mp-bucket/big%%20obj.bin?partNumber=%d&uploadId=%s"
                                                % (n, uid) for n in range(1, 7)]
    assert len(puts) == 7  # part 2 twice
    assert b"".join(MultipartServer.parts[n] for n in range(1, 7)) == data
    assert MultipartServer.max_in_flight >= 2, "parts were not sent in parallel"
    complete = [s for s in seen if s[0] == "POST" and "uploadId=" in s[1]]
    assert len(complete) == 1 and complete[0][1] == "/mp-bucket/big%%20obj.bin?uploadId=%s" % uid
    xml = complete[0][3].decode()
    got = re.findall(r"<Part><PartNumber>(\d+)</PartNumber><ETag>([^<]*)</ETag></Part>", xml)
    assert got == [(str(n), '"%s"' % hashlib.md5(MultipartServer.parts[n]).hexdigest())
                   for n in range(1, 7)]
    assert not [s for s in seen if s[0] == "DELETE"]
    assert [s[1] for s in seen if s[0] == "PUT" and "partNumber" not in s[1]] == ["/mp-bucket/small.bin"]
    for method, path, hdrs, _ in seen:
        check_signed(method, path, hdrs, mpserver, region)


def test_multipart_abort(mpserver, monkeypatch):
    """A part refused for good: the upload is aborted (DELETE ?uploadId),
    never completed, and the put fails naming the part."""
    signing_env(monkeypatch, mpserver, "us-east-1")
    monkeypatch.setenv("LSIO_S3_MULTIPART_THRESHOLD", "1M")
    monkeypatch.setenv("LSIO_S3_PART_SIZE", "256K")
    MultipartServer.fail_part = 3
    try:
        with harness.Lsio("s3://mp-bucket/") as io:
            with pytest.raises(harness.LsioError) as e:
                io.write("s3://mp-bucket/doomed.bin", blob(3 << 20, 9))
    finally:
        MultipartServer.fail_part = None
    assert e.value.rc == -13
    assert "part 3 of 12" in e.value.msg and "aborted" in e.value.msg and "403" in e.value.msg
    assert "s3://mp-bucket/doomed.bin" in e.value.msg or "/mp-bucket/doomed.bin" in e.value.msg
    seen = MultipartServer.seen
    assert [s[1] for s in seen if s[0] == "DELETE"] == ["/mp-bucket/doomed.bin?uploadId=up%2FID%2B1%3D"]
    assert not [s for s in seen if s[0] == "POST" and "uploadId=" in s[1]]


def test_multipart_with_boto3(s3, lsio_s3, monkeypatch):
    """LSIO's multipart objects read back by boto3, boto3's by LSIO."""
    from boto3.s3.transfer import TransferConfig
    import io as pyio
    c = harness.boto3_client(s3)
    monkeypatch.setenv("LSIO_S3_MULTIPART_THRESHOLD", "1M")
    monkeypatch.setenv("LSIO_S3_PART_SIZE", "300K")
    data = blob((5 << 20) + 4321, 11)
    with harness.Lsio("s3://%s/" % BUCKET) as io:
        io.write("s3://%s/mp/lsio.bin" % BUCKET, data)
    assert c.get_object(Bucket=BUCKET, Key="mp/lsio.bin")["Body"].read() == data
    cfg = TransferConfig(multipart_threshold=1 << 20, multipart_chunksize=5 << 20)
    c.upload_fileobj(pyio.BytesIO(data[::-1]), BUCKET, "mp/boto3.bin", Config=cfg)
    assert lsio_s3.read("s3://%s/mp/boto3.bin" % BUCKET) == data[::-1]
    assert lsio_s3.read("s3://%s/mp/boto3.bin" % BUCKET, (5 << 20) - 10, 20) == data[::-1][(5 << 20) - 10:(5 << 20) + 10]
