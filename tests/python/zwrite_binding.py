"""ctypes binding of LSIO's Zarr writer (lib/zwrite/lsio_zwrite.h) for the
write tests: create arrays and groups, write numpy arrays (or selections of
them) through liblsio.so.

    w = ZWriter(lib)                      # lib: path of liblsio.so
    a = w.create(url, fmt=2, shape=..., chunks=..., dtype="<f4",
                 codecs=None|"zstd:3"|json, fill=json text, shards=None,
                 order="C", attrs=None, overwrite=False, empty=False)
    a.write(numpy_array, key=(slice(...), 3, ...))   # numpy-style key
    a.close()
"""
import ctypes
import json
import os
from pathlib import Path

import numpy as np

MAXD = 32
REPO = Path(__file__).resolve().parents[2]

DT_BOOL, DT_INT, DT_UINT, DT_FLOAT, DT_COMPLEX, DT_BYTES, DT_UNICODE = range(7)


class Dtype(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("size", ctypes.c_uint32), ("big_endian", ctypes.c_int)]


class Spec(ctypes.Structure):
    _fields_ = [("zarr_format", ctypes.c_int), ("ndim", ctypes.c_uint),
                ("shape", ctypes.c_uint64 * MAXD), ("chunks", ctypes.c_uint64 * MAXD),
                ("shards", ctypes.c_uint64 * MAXD), ("dtype", Dtype),
                ("fortran_order", ctypes.c_int), ("fill_value_json", ctypes.c_char_p),
                ("codecs_json", ctypes.c_char_p), ("attrs_json", ctypes.c_char_p),
                ("dimension_names", ctypes.c_char_p * MAXD), ("separator", ctypes.c_char),
                ("v3_v2_keys", ctypes.c_int), ("index_at_start", ctypes.c_int)]


class IoOpts(ctypes.Structure):
    _fields_ = [("backend", ctypes.c_int), ("workers", ctypes.c_uint), ("depth", ctypes.c_uint),
                ("direct", ctypes.c_int), ("pool_bytes", ctypes.c_size_t),
                ("pool", ctypes.c_void_p), ("merge_gap", ctypes.c_int64),
                ("split_bytes", ctypes.c_int64), ("max_connections", ctypes.c_uint),
                ("retries", ctypes.c_uint), ("timeout_ms", ctypes.c_uint),
                ("deadline_ms", ctypes.c_uint), ("verify_tls", ctypes.c_int),
                ("region", ctypes.c_char_p), ("endpoint", ctypes.c_char_p),
                ("profile", ctypes.c_char_p), ("unsigned_requests", ctypes.c_int),
                ("path_style", ctypes.c_int), ("multipart_threshold", ctypes.c_uint64),
                ("multipart_part_bytes", ctypes.c_uint64)]


class Opts(ctypes.Structure):
    _fields_ = [("io", IoOpts), ("io_handle", ctypes.c_void_p), ("pool", ctypes.c_void_p),
                ("inflight_bytes", ctypes.c_size_t), ("write_empty_chunks", ctypes.c_int),
                ("overwrite", ctypes.c_int), ("put_flags", ctypes.c_uint)]


class DimSel(ctypes.Structure):
    _fields_ = [("start", ctypes.c_int64), ("step", ctypes.c_int64), ("count", ctypes.c_uint64),
                ("drop", ctypes.c_int)]


class Selection(ctypes.Structure):
    _fields_ = [("ndim", ctypes.c_uint), ("dim", DimSel * MAXD)]


class Stats(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in ("objects_written", "objects_deleted",
                                               "objects_merged", "chunks_encoded",
                                               "bytes_written", "bytes_in")]


class LsioError(Exception):
    def __init__(self, rc, msg):
        super().__init__(f"{msg} (rc {rc})")
        self.rc, self.msg = rc, msg


def liblsio_path():
    b = os.environ.get("LSIO_BIN")
    cands = [Path(b).parent / "liblsio.so"] if b else []
    cands.append(REPO / "build" / "liblsio.so")
    for c in cands:
        if c.is_file():
            return c
    return None


DT_STRING = 7


def dtype_struct(dt):
    if dt in ("string", "|O", object, str):
        return Dtype(DT_STRING, 0, 0)
    dt = np.dtype(dt)
    kind = {"b": DT_BOOL, "i": DT_INT, "u": DT_UINT, "f": DT_FLOAT, "c": DT_COMPLEX,
            "S": DT_BYTES, "U": DT_UNICODE}[dt.kind]
    return Dtype(kind, dt.itemsize, 1 if dt.byteorder == ">" else 0)


def selection(shape, key):
    """numpy basic indexing key -> Selection (slices with steps, integers)."""
    if not isinstance(key, tuple):
        key = (key,)
    key = key + (slice(None),) * (len(shape) - len(key))
    s = Selection()
    s.ndim = len(shape)
    for d, (k, n) in enumerate(zip(key, shape)):
        if isinstance(k, slice):
            r = range(*k.indices(n))
            s.dim[d] = DimSel(r.start if len(r) else 0, r.step, len(r), 0)
        else:
            i = int(k) + (n if int(k) < 0 else 0)
            s.dim[d] = DimSel(i, 1, 1, 1)
    return s


class ZArray:
    def __init__(self, w, handle, shape):
        self.w, self.h, self.shape = w, handle, tuple(shape)

    def write(self, data, key=()):
        data = np.ascontiguousarray(data)
        if data.dtype.byteorder == ">":
            data = data.astype(data.dtype.newbyteorder("="))
        sel = selection(self.shape, key)
        self.w._check(self.w.L.lsio_zwrite_write(self.h, ctypes.byref(sel),
                                                  data.ctypes.data_as(ctypes.c_void_p),
                                                  data.nbytes))

    def write_strings(self, strs, key=()):
        bs = [s.encode() for s in np.asarray(strs, dtype=object).ravel()]
        off = np.cumsum([0] + [len(b) for b in bs]).astype(np.uint64)
        data = b"".join(bs)
        sel = selection(self.shape, key)
        self.w._check(self.w.L.lsio_zwrite_write_strings(self.h, ctypes.byref(sel),
                                                          off.ctypes.data_as(ctypes.c_void_p),
                                                          data, len(bs)))

    def stats(self):
        st = Stats()
        self.w.L.lsio_zwrite_stats_get(self.h, ctypes.byref(st))
        return {n: getattr(st, n) for n, _ in Stats._fields_}

    def close(self):
        if self.h:
            self.w.L.lsio_zwrite_close(self.h)
            self.h = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class ZWriter:
    def __init__(self, path=None):
        path = path or liblsio_path()
        L = self.L = ctypes.CDLL(str(path))
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        L.lsio_zwrite_create.argtypes = [ctypes.POINTER(vp), cp, ctypes.POINTER(Spec),
                                         ctypes.POINTER(Opts)]
        L.lsio_zwrite_open.argtypes = [ctypes.POINTER(vp), cp, ctypes.POINTER(Opts)]
        L.lsio_zwrite_write.argtypes = [vp, ctypes.POINTER(Selection), vp, ctypes.c_size_t]
        L.lsio_zwrite_close.argtypes = [vp]
        L.lsio_zwrite_write_strings.argtypes = [vp, ctypes.POINTER(Selection), vp, cp,
                                                ctypes.c_uint64]
        L.lsio_zwrite_stats_get.argtypes = [vp, ctypes.POINTER(Stats)]
        L.lsio_zwrite_create_group.argtypes = [cp, ctypes.c_int, cp, ctypes.POINTER(Opts)]
        L.lsio_zwrite_codecs_from_text.argtypes = [cp, ctypes.c_int, ctypes.POINTER(Dtype),
                                                   ctypes.POINTER(ctypes.c_void_p)]
        L.lsio_last_error.restype = cp
        L.free.argtypes = [vp]

    def _check(self, rc):
        if rc < 0:
            raise LsioError(rc, self.L.lsio_last_error().decode(errors="replace"))
        return rc

    @staticmethod
    def opts(overwrite=False, empty=False, inflight=0, fsync=False):
        o = Opts()
        o.io.direct = -1
        o.io.verify_tls = -1
        o.io.path_style = -1
        o.overwrite = int(overwrite)
        o.write_empty_chunks = int(empty)
        o.inflight_bytes = inflight
        o.put_flags = 1 if fsync else 0
        return o

    def codecs(self, text, fmt, dtype):
        out = ctypes.c_void_p()
        d = dtype_struct(dtype)
        self._check(self.L.lsio_zwrite_codecs_from_text(text.encode(), fmt, ctypes.byref(d),
                                                        ctypes.byref(out)))
        s = ctypes.string_at(out.value).decode()
        self.L.free(out)
        return s

    def create(self, url, fmt, shape, chunks, dtype, codecs=None, fill=None, shards=None,
               order="C", attrs=None, separator=None, dimension_names=None, **kw):
        s = Spec()
        s.zarr_format = fmt
        s.ndim = len(shape)
        for d in range(len(shape)):
            s.shape[d], s.chunks[d] = shape[d], chunks[d]
            if shards:
                s.shards[d] = shards[d]
        s.dtype = dtype_struct(dtype)
        s.fortran_order = int(order == "F")
        keep = []

        def c(x):
            b = x.encode() if isinstance(x, str) else x
            keep.append(b)
            return b
        if fill is not None:
            s.fill_value_json = c(fill if isinstance(fill, str) else json.dumps(fill))
        if codecs is not None:
            if not codecs.startswith(("{", "[")):
                codecs = self.codecs(codecs, fmt, dtype)
            s.codecs_json = c(codecs)
        if attrs is not None:
            s.attrs_json = c(json.dumps(attrs))
        if separator:
            s.separator = separator.encode()
        for d, n in enumerate(dimension_names or []):
            if n is not None:
                s.dimension_names[d] = c(n)
        h = ctypes.c_void_p()
        o = self.opts(**kw)
        self._check(self.L.lsio_zwrite_create(ctypes.byref(h), str(url).encode(),
                                              ctypes.byref(s), ctypes.byref(o)))
        return ZArray(self, h, shape)

    def open(self, url, shape, **kw):
        h = ctypes.c_void_p()
        o = self.opts(**kw)
        self._check(self.L.lsio_zwrite_open(ctypes.byref(h), str(url).encode(), ctypes.byref(o)))
        return ZArray(self, h, shape)

    def group(self, url, fmt, attrs=None, **kw):
        o = self.opts(**kw)
        a = json.dumps(attrs).encode() if attrs is not None else None
        self._check(self.L.lsio_zwrite_create_group(str(url).encode(), fmt, a, ctypes.byref(o)))
