"""harness.py — what the Python remote-IO tests and bench/remote share:
start a test server through serve.py (nginx, s3rver, faulty) and stop it,
S3 environment variables for s3rver, a boto3 client for it, and a ctypes
binding of the few liblsio calls that read and write raw objects (the
`lsio` CLI reads arrays, not raw objects).

Import with the directory of this file on sys.path.
"""
import ctypes
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
S3_KEY = "S3RVER"  # s3rver's built-in key id and secret


class Skip(Exception):
    """The server is not installed; the message says what is missing."""


@contextmanager
def server(kind, root, buckets=(), lifetime=600):
    """Run serve.py KIND ROOT; yields the port. Raises Skip when missing."""
    args = [sys.executable if sys.executable else "/usr/bin/python3", str(HERE / "serve.py"), kind,
            str(root), "--lifetime", str(lifetime)]
    for b in buckets:
        args += ["--bucket", b]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        line = p.stdout.readline().strip()
        if line.startswith("SKIP "):
            raise Skip(line[5:])
        if not line.startswith("PORT "):
            raise Skip("%s: the launcher said %r" % (kind, line))
        yield int(line.split()[1])
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def s3_env(port, region="us-east-1"):
    """The environment under which LSIO (and boto3) talk to s3rver."""
    return {
        "AWS_ACCESS_KEY_ID": S3_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_KEY,
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:%d" % port,
    }


def boto3_client(port, region="us-east-1"):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % port, aws_access_key_id=S3_KEY,
                        aws_secret_access_key=S3_KEY, region_name=region,
                        config=Config(s3={"addressing_style": "path"}))


def liblsio_path():
    """build/liblsio.so beside $LSIO_BIN (as tests/run-all sets it), or
    $LSIO_LIB, or REPO/build/liblsio.so."""
    if os.environ.get("LSIO_LIB"):
        return Path(os.environ["LSIO_LIB"])
    if os.environ.get("LSIO_BIN"):
        return Path(os.environ["LSIO_BIN"]).parent / "liblsio.so"
    return REPO / "build" / "liblsio.so"


LIST_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64)
TO_END = -(2 ** 63)


class Range(ctypes.Structure):
    _fields_ = [("offset", ctypes.c_int64), ("length", ctypes.c_int64), ("dest", ctypes.c_void_p),
                ("user_data", ctypes.c_uint64), ("iov", ctypes.c_void_p), ("iovcnt", ctypes.c_size_t)]


class IoOpts(ctypes.Structure):
    """lsio_io_opts (lib/io/lsio_io.h), field for field."""
    _fields_ = [("backend", ctypes.c_int), ("workers", ctypes.c_uint), ("depth", ctypes.c_uint),
                ("direct", ctypes.c_int), ("pool_bytes", ctypes.c_size_t), ("pool", ctypes.c_void_p),
                ("merge_gap", ctypes.c_int64), ("split_bytes", ctypes.c_int64),
                ("max_connections", ctypes.c_uint), ("retries", ctypes.c_uint),
                ("timeout_ms", ctypes.c_uint), ("deadline_ms", ctypes.c_uint),
                ("verify_tls", ctypes.c_int), ("region", ctypes.c_char_p),
                ("endpoint", ctypes.c_char_p), ("profile", ctypes.c_char_p),
                ("unsigned_requests", ctypes.c_int), ("path_style", ctypes.c_int),
                ("multipart_threshold", ctypes.c_uint64), ("multipart_part_bytes", ctypes.c_uint64)]

    def __init__(self, **kw):
        super().__init__(direct=-1, verify_tls=-1, path_style=-1)  # LSIO_IO_OPTS_DEFAULT
        for k, v in kw.items():
            setattr(self, k, v.encode() if isinstance(v, str) else v)


class Completion(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_size_t), ("buf", ctypes.c_void_p),
                ("user_data", ctypes.c_uint64), ("status", ctypes.c_int), ("error", ctypes.c_char_p),
                ("offset", ctypes.c_uint64), ("object_size", ctypes.c_uint64)]


class LsioError(Exception):
    def __init__(self, rc, msg):
        super().__init__("%d: %s" % (rc, msg))
        self.rc = rc
        self.msg = msg


class Lsio:
    """lsio_io_open / read / size / write / list / delete / fetch through
    ctypes. One io per location scheme; the environment is read when it
    opens; keyword arguments set lsio_io_opts fields (path_style=0, ...)."""

    def __init__(self, location, lib=None, **opts):
        path = Path(lib) if lib else liblsio_path()
        if not path.is_file():
            raise Skip("liblsio.so is not built at %s (run make)" % path)
        L = self.L = ctypes.CDLL(str(path))
        vp, cp, i64, u64 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_uint64
        L.lsio_io_open.argtypes = [ctypes.POINTER(vp), cp, ctypes.POINTER(IoOpts)]
        L.lsio_io_close.argtypes = [vp]
        L.lsio_io_read.argtypes = [vp, cp, i64, i64, ctypes.POINTER(vp)]
        L.lsio_io_size.argtypes = [vp, cp, ctypes.POINTER(u64)]
        L.lsio_write.argtypes = [vp, cp, cp, ctypes.c_size_t, ctypes.c_uint]
        L.lsio_delete.argtypes = [vp, cp]
        L.lsio_list.argtypes = [vp, cp, LIST_FN, vp]
        L.lsio_buf_data.argtypes = [vp]
        L.lsio_buf_data.restype = vp
        L.lsio_buf_len.argtypes = [vp]
        L.lsio_buf_len.restype = ctypes.c_size_t
        L.lsio_buf_release.argtypes = [vp]
        L.lsio_last_error.restype = cp
        L.lsio_cq_create.argtypes = [ctypes.POINTER(vp)]
        L.lsio_cq_destroy.argtypes = [vp]
        L.lsio_get_ranges.argtypes = [vp, vp, cp, ctypes.POINTER(Range), ctypes.c_size_t, ctypes.c_uint32]
        L.lsio_cq_wait.argtypes = [vp, ctypes.POINTER(Completion), ctypes.c_size_t, ctypes.c_int]
        L.lsio_completion_release.argtypes = [ctypes.POINTER(Completion)]
        L.lsio_io_backend_name.argtypes = [vp]
        L.lsio_io_backend_name.restype = cp
        self.io = vp()
        self.opts = IoOpts(**opts) if opts else None  # kept alive: strings are borrowed
        self._check(L.lsio_io_open(ctypes.byref(self.io), location.encode(),
                                   ctypes.byref(self.opts) if opts else None))

    def _check(self, rc):
        if rc < 0:
            raise LsioError(rc, (self.L.lsio_last_error() or b"").decode(errors="replace"))
        return rc

    def close(self):
        if self.io:
            self.L.lsio_io_close(self.io)
            self.io = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def backend(self):
        return self.L.lsio_io_backend_name(self.io).decode()

    def read(self, location, offset=0, length=None):
        b = ctypes.c_void_p()
        ln = -(2 ** 63) if length is None else length  # LSIO_TO_END
        self._check(self.L.lsio_io_read(self.io, location.encode(), offset, ln, ctypes.byref(b)))
        try:
            return ctypes.string_at(self.L.lsio_buf_data(b), self.L.lsio_buf_len(b))
        finally:
            self.L.lsio_buf_release(b)

    def size(self, location):
        s = ctypes.c_uint64()
        self._check(self.L.lsio_io_size(self.io, location.encode(), ctypes.byref(s)))
        return s.value

    def write(self, location, data):
        self._check(self.L.lsio_write(self.io, location.encode(), data, len(data), 0))

    def delete(self, location):
        self._check(self.L.lsio_delete(self.io, location.encode()))

    def list(self, prefix):
        out = []

        def cb(_ctx, loc, size):
            out.append((loc.decode(), size))
            return 0
        fn = LIST_FN(cb)
        self._check(self.L.lsio_list(self.io, prefix.encode(), fn, None))
        return out

    def fetch(self, objects):
        """Read whole objects at once, [(location, size or None)], through
        one completion queue (None: TO_END, which costs a size request
        each); returns the bytes delivered. Raises on the first failure."""
        L = self.L
        cq = ctypes.c_void_p()
        self._check(L.lsio_cq_create(ctypes.byref(cq)))
        total, err = 0, None
        try:
            for i, (loc, size) in enumerate(objects):
                r = Range(0, TO_END if size is None else size, None, i)
                self._check(L.lsio_get_ranges(self.io, cq, loc.encode(), ctypes.byref(r), 1, 0))
            c = (Completion * 64)()
            left = len(objects)
            while left:
                n = L.lsio_cq_wait(cq, c, 64, 60000)
                if n <= 0:
                    raise LsioError(n or -110, "no completion in 60 s")
                for k in range(n):
                    if c[k].status and err is None:
                        err = LsioError(c[k].status, (c[k].error or b"").decode(errors="replace"))
                    total += c[k].len
                    L.lsio_completion_release(ctypes.byref(c[k]))
                left -= n
        finally:
            L.lsio_cq_destroy(cq)
        if err:
            raise err
        return total
