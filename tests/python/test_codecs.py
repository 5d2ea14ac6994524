"""LSIO's codecs against numcodecs 0.11 (Debian python3-numcodecs), through
ctypes on liblsio.so ($LSIO_LIB, default build/liblsio.so):

- LSIO decodes byte for byte what numcodecs encodes, for every codec,
  many dtypes (both byte orders) and shapes, empty and one element
  included, and numcodecs decodes what LSIO encodes;
- filter chains as zarr-python 2 applies them (filters, then compressor);
- vlen-utf8 strings both ways;
- every chunk of the zarr-python-written fixture stores
  (../shared/fixtures/zarrita/v2) decodes to what numcodecs makes of it.
"""
import ctypes
import json
import os
from pathlib import Path

import numpy as np
import pytest

numcodecs = pytest.importorskip("numcodecs")

REPO = Path(__file__).resolve().parents[2]
LIB = Path(os.environ.get("LSIO_LIB", REPO / "build" / "liblsio.so"))


class DType(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("size", ctypes.c_uint32), ("big_endian", ctypes.c_int)]


class Spec(ctypes.Structure):
    _fields_ = [("ndim", ctypes.c_uint), ("shape", ctypes.c_uint64 * 32), ("dtype", DType),
                ("fortran_order", ctypes.c_int)]


@pytest.fixture(scope="module")
def lib():
    if not LIB.is_file():
        pytest.skip(f"liblsio.so is not built at {LIB} (run make, or set LSIO_LIB)")
    L = ctypes.CDLL(str(LIB))
    L.lsio_last_error.restype = ctypes.c_char_p
    L.lsio_crc32c.restype = ctypes.c_uint32
    L.lsio_chain_decoded_size.restype = ctypes.c_size_t
    L.lsio_codec_config_json.restype = ctypes.c_void_p
    vp, sz = ctypes.c_void_p, ctypes.c_size_t
    L.lsio_chain_decode.argtypes = [vp, ctypes.c_char_p, sz, vp, sz]
    L.lsio_chain_encode.argtypes = [vp, ctypes.c_char_p, sz, ctypes.POINTER(vp),
                                    ctypes.POINTER(sz)]
    L.lsio_chain_decode_strings.argtypes = [vp, ctypes.c_char_p, sz, ctypes.POINTER(vp),
                                            ctypes.POINTER(vp), ctypes.POINTER(sz)]
    L.lsio_chain_encode_strings.argtypes = [vp, vp, ctypes.c_char_p, ctypes.POINTER(vp),
                                            ctypes.POINTER(sz)]
    L.lsio_codec_create.argtypes = [ctypes.POINTER(vp), ctypes.c_char_p, ctypes.c_char_p]
    L.lsio_codec_destroy.argtypes = [vp]
    L.lsio_chain_create.argtypes = [ctypes.POINTER(vp), ctypes.POINTER(vp), sz,
                                    ctypes.POINTER(Spec)]
    L.lsio_chain_destroy.argtypes = [vp]
    L.lsio_chain_decoded_size.argtypes = [vp]
    L.lsio_dtype_parse.argtypes = [ctypes.c_char_p, ctypes.POINTER(DType)]
    L.free.argtypes = [vp]
    return L


class Chain:
    """A chain over codecs given as numcodecs config dicts (or (name, cfg))."""

    def __init__(self, L, codecs, dtype, shape, order="C"):
        self.L = L
        handles = []
        for c in codecs:
            name, cfg = c if isinstance(c, tuple) else (c["id"], c)
            h = ctypes.c_void_p()
            rc = L.lsio_codec_create(ctypes.byref(h), name.encode(), json.dumps(cfg).encode())
            assert rc == 0, (name, cfg, L.lsio_last_error())
            handles.append(h)
        spec = Spec()
        spec.ndim = len(shape)
        for i, s in enumerate(shape):
            spec.shape[i] = s
        assert L.lsio_dtype_parse(dtype.encode(), ctypes.byref(spec.dtype)) == 0, dtype
        spec.fortran_order = order == "F"
        arr = (ctypes.c_void_p * max(1, len(handles)))(*[h.value for h in handles])
        self.h = ctypes.c_void_p()
        rc = L.lsio_chain_create(ctypes.byref(self.h), arr, len(handles), ctypes.byref(spec))
        for h in handles:
            L.lsio_codec_destroy(h)
        assert rc == 0, L.lsio_last_error()
        self.size = L.lsio_chain_decoded_size(self.h)

    def __del__(self):
        if getattr(self, "h", None):
            self.L.lsio_chain_destroy(self.h)

    def decode(self, enc):
        out = ctypes.create_string_buffer(max(1, self.size))
        rc = self.L.lsio_chain_decode(self.h, bytes(enc), len(enc), out, self.size)
        if rc != 0:
            raise RuntimeError(f"{rc}: {self.L.lsio_last_error().decode()}")
        return out.raw[:self.size]

    def encode(self, raw):
        p, n = ctypes.c_void_p(), ctypes.c_size_t()
        rc = self.L.lsio_chain_encode(self.h, raw, len(raw), ctypes.byref(p), ctypes.byref(n))
        assert rc == 0, self.L.lsio_last_error()
        b = ctypes.string_at(p, n.value)
        self.L.free(p)
        return b

    def decode_strings(self, enc):
        off, data, n = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_size_t()
        rc = self.L.lsio_chain_decode_strings(self.h, bytes(enc), len(enc), ctypes.byref(off),
                                              ctypes.byref(data), ctypes.byref(n))
        if rc != 0:
            raise RuntimeError(f"{rc}: {self.L.lsio_last_error().decode()}")
        count = self.size_items
        o = np.frombuffer(ctypes.string_at(off, 8 * (count + 1)), dtype="<u8")
        d = ctypes.string_at(data, n.value)
        self.L.free(off)
        self.L.free(data)
        return [d[o[i]:o[i + 1]].decode("utf-8") for i in range(count)]

    def encode_strings(self, items):
        bs = [s.encode("utf-8") for s in items]
        offs = np.zeros(len(bs) + 1, dtype="<u8")
        offs[1:] = np.cumsum([len(b) for b in bs]) if bs else []
        data = b"".join(bs)
        p, n = ctypes.c_void_p(), ctypes.c_size_t()
        rc = self.L.lsio_chain_encode_strings(self.h, offs.ctypes.data, data, ctypes.byref(p),
                                              ctypes.byref(n))
        assert rc == 0, self.L.lsio_last_error()
        b = ctypes.string_at(p, n.value)
        self.L.free(p)
        return b


def nc_encode(codecs, arr):
    enc = arr
    for c in codecs:
        enc = c.encode(enc)
    return bytes(numcodecs.compat.ensure_contiguous_ndarray(enc).view("u1"))


def nc_decode(codecs, enc, dtype, shape):
    dec = enc
    for c in reversed(codecs):
        dec = c.decode(dec)
    return np.frombuffer(bytes(numcodecs.compat.ensure_contiguous_ndarray(dec).view("u1")),
                         dtype=dtype).reshape(shape)


def native(a):
    return np.ascontiguousarray(a).astype(a.dtype.newbyteorder("="), copy=False)


DTYPES = ["|u1", "|i1", "<i2", "<u2", "<i4", ">i4", "<u4", "<i8", "<u8", "<f2", "<f4", ">f4",
          "<f8", ">f8", "<c8", "<c16", "|b1", "|S5", "<U3", ">U3"]
SHAPES = [(0,), (1,), (7,), (100, 3), (4099,)]


def sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed + len(shape))
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    raw = rng.integers(0, 256, size=n * dt.itemsize, dtype=np.uint8)
    # runs and ramps so compressors have something to find
    if n > 10:
        raw[: len(raw) // 2] = (np.arange(len(raw) // 2) // 13 % 256).astype(np.uint8)
    a = np.frombuffer(raw.tobytes(), dtype=dt).reshape(shape).copy()
    if dt.kind == "b":
        a = a.view("u1") % 2 == 1
    if dt.kind == "U":
        a = np.array(["".join(chr(0x41 + (i * 7 + j) % 50) + "é🙂"[(i + j) % 2] for j in range(2))
                      for i in range(n)], dtype=dt).reshape(shape)
    return a


COMPRESSORS = [
    numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE),
    numcodecs.Blosc("lz4", 5, numcodecs.Blosc.AUTOSHUFFLE),
    numcodecs.Blosc("zstd", 3, numcodecs.Blosc.BITSHUFFLE),
    numcodecs.Blosc("blosclz", 9, numcodecs.Blosc.NOSHUFFLE),
    numcodecs.Blosc("lz4hc", 1, numcodecs.Blosc.SHUFFLE, blocksize=256),
    numcodecs.Blosc("zlib", 4, numcodecs.Blosc.SHUFFLE),
    numcodecs.Zstd(1), numcodecs.Zstd(9), numcodecs.Zstd(-2),
    numcodecs.LZ4(1), numcodecs.LZ4(30),
    numcodecs.GZip(1), numcodecs.GZip(9),
    numcodecs.Zlib(1), numcodecs.Zlib(9),
    numcodecs.BZ2(1), numcodecs.BZ2(9),
    numcodecs.LZMA(), numcodecs.LZMA(format=2, preset=1),
    numcodecs.LZMA(check=0, preset=0),
    numcodecs.Shuffle(4), numcodecs.Shuffle(3), numcodecs.Shuffle(1),
    numcodecs.CRC32(), numcodecs.Adler32(),
]


def ids(c):
    return repr(c).replace(" ", "")


@pytest.mark.parametrize("comp", COMPRESSORS, ids=ids)
def test_compressor_both_ways(lib, comp):
    for dtype in DTYPES:
        for shape in SHAPES:
            if isinstance(comp, (numcodecs.BZ2, numcodecs.LZMA)) and shape == (4099,) \
                    and dtype not in ("<f8", "|u1"):
                continue
            a = sample(dtype, shape)
            if isinstance(comp, numcodecs.Shuffle) and a.nbytes % comp.elementsize:
                # numcodecs refuses a partial element, and so does LSIO
                with pytest.raises(ValueError):
                    nc_encode([comp], a)
                ch = Chain(lib, [comp.get_config()], dtype, shape)
                with pytest.raises(Exception, match="whole"):
                    ch.decode(native(a).tobytes())
                with pytest.raises(Exception, match="whole"):
                    ch.encode(native(a).tobytes())
                continue
            ch = Chain(lib, [comp.get_config()], dtype, shape)
            enc = nc_encode([comp], a)
            got = ch.decode(enc)
            assert got == native(a).tobytes(), (dtype, shape)
            ours = ch.encode(native(a).tobytes())
            if a.size == 0 and isinstance(comp, (numcodecs.Blosc, numcodecs.Zstd, numcodecs.LZ4)):
                # numcodecs 0.11 cannot decode these empty buffers, its own either
                assert ch.decode(ours) == b""
                continue
            back = nc_decode([comp], ours, a.dtype, shape)
            assert np.array_equal(back.view("u1"), a.view("u1")), (dtype, shape)


def test_blosc_typesize_and_autoshuffle(lib):
    """numcodecs picks blosc's typesize from the array: LSIO must too,
    so the stored bytes shuffle the same way (same header flags)."""
    for dtype in ["|u1", "<i2", "<f4", "<f8", "<c16"]:
        a = sample(dtype, (5000,))
        comp = numcodecs.Blosc("lz4", 5, numcodecs.Blosc.AUTOSHUFFLE)
        ours = Chain(lib, [comp.get_config()], dtype, a.shape).encode(native(a).tobytes())
        theirs = nc_encode([comp], a)
        assert ours[:4] == theirs[:4], dtype  # version, versionlz, flags, typesize


FILTERS = [
    ("<i4", [numcodecs.Delta("<i4")]),
    ("<i8", [numcodecs.Delta("<i8", astype="<i2")]),
    ("|u1", [numcodecs.Delta("|u1")]),
    ("<u2", [numcodecs.Delta("<u2", astype="<i4")]),
    ("<f8", [numcodecs.Delta("<f8")]),
    ("<f4", [numcodecs.Delta("<f4")]),
    ("<f8", [numcodecs.FixedScaleOffset(offset=1000, scale=10, dtype="<f8", astype="<i2")]),
    ("<f4", [numcodecs.FixedScaleOffset(offset=-3.5, scale=0.1, dtype="<f4", astype="|u1")]),
    ("<f4", [numcodecs.FixedScaleOffset(offset=2.25, scale=1e3, dtype="<f4", astype="<i4")]),
    ("<f8", [numcodecs.FixedScaleOffset(offset=0, scale=3, dtype="<f8", astype="<f4")]),
    ("<f4", [numcodecs.BitRound(keepbits=7)]),
    ("<f8", [numcodecs.BitRound(keepbits=20)]),
    ("<f4", [numcodecs.BitRound(keepbits=23)]),
    ("<f8", [numcodecs.AsType(encode_dtype="<f4", decode_dtype="<f8")]),
    ("<i4", [numcodecs.AsType(encode_dtype="<i2", decode_dtype="<i4")]),
    ("<i2", [numcodecs.AsType(encode_dtype="<f8", decode_dtype="<i2")]),
    ("<i4", [numcodecs.Delta("<i4"), numcodecs.Shuffle(4), numcodecs.Blosc("zstd", 3)]),
    ("<f8", [numcodecs.FixedScaleOffset(offset=10, scale=100, dtype="<f8", astype="<i4"),
             numcodecs.Zstd(3)]),
    ("<f4", [numcodecs.BitRound(keepbits=10), numcodecs.Zlib(5)]),
    # big-endian dtypes: the arithmetic in native order, the bytes as stored
    (">i8", [numcodecs.Delta(">i8")]),
    (">u2", [numcodecs.Delta(">u2")]),
    (">i4", [numcodecs.Delta(">i4", astype="<i2")]),
    (">f8", [numcodecs.Delta(">f8")]),
    (">f4", [numcodecs.FixedScaleOffset(offset=-5, scale=100, dtype=">f4", astype="<i4")]),
    (">f8", [numcodecs.FixedScaleOffset(offset=-4, scale=100, dtype=">f8", astype=">i4")]),
    ("<f8", [numcodecs.FixedScaleOffset(offset=2, scale=10, dtype="<f8", astype=">u2")]),
    (">i4", [numcodecs.AsType(encode_dtype=">i2", decode_dtype=">i4")]),
    (">f8", [numcodecs.AsType(encode_dtype="<f4", decode_dtype=">f8")]),
]


def filter_sample(dtype, shape, rng):
    n = int(np.prod(shape))
    if np.dtype(dtype).kind == "f":
        return (np.cumsum(rng.normal(0, 1, n)) + 12.5).astype(dtype).reshape(shape)
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -30000), min(info.max, 30000)
    return rng.integers(lo, hi, size=n).astype(dtype).reshape(shape)


@pytest.mark.parametrize("dtype,codecs", FILTERS, ids=[f"{d}-{ids(c)}" for d, c in FILTERS])
def test_filters_both_ways(lib, dtype, codecs):
    rng = np.random.default_rng(7)
    for shape in [(1,), (2,), (33,), (10, 30), (5000,)]:
        a = filter_sample(dtype, shape, rng)
        enc = nc_encode(codecs, a)
        ch = Chain(lib, [c.get_config() for c in codecs], dtype, shape)
        # the chain hands out native byte order (the stored order is the codecs')
        got = np.frombuffer(ch.decode(enc), dtype=np.dtype(dtype).newbyteorder("="))
        want = native(nc_decode(codecs, enc, dtype, shape)).reshape(-1)
        assert got.tobytes() == want.tobytes(), shape
        # LSIO's encoding: the same stored values (compressed streams may differ)
        ours = ch.encode(native(a).tobytes())
        assert np.array_equal(nc_decode(codecs, ours, dtype, shape), want.reshape(shape)), shape
        if not isinstance(codecs[-1], (numcodecs.Blosc, numcodecs.Zstd, numcodecs.Zlib)):
            assert ours == enc, shape


def test_delta_empty(lib):
    """numcodecs' Delta cannot encode nothing; LSIO can, and decodes it."""
    ch = Chain(lib, [numcodecs.Delta("<i4").get_config()], "<i4", (0,))
    assert ch.decode(ch.encode(b"")) == b""


@pytest.mark.parametrize("comp", [None, numcodecs.Zstd(1), numcodecs.Blosc("lz4", 5)], ids=ids)
def test_vlen_utf8(lib, comp):
    items = ["", "a", "héllo wörld", "🙂🙃 emoji", "x" * 1000, "", "日本語"]
    for shape in [(0,), (1,), (7,), (7, 1)]:
        n = int(np.prod(shape))
        a = np.array((items * 2)[:n], dtype=object).reshape(shape)
        codecs = [numcodecs.VLenUTF8()] + ([comp] if comp else [])
        enc = nc_encode(codecs, a) if n else None
        cfgs = [c.get_config() for c in codecs]
        ch = Chain(lib, cfgs, "|O", shape)
        ch.size_items = n
        if enc is not None:
            assert ch.decode_strings(enc) == list(a.reshape(-1))
        ours = ch.encode_strings(list(a.reshape(-1)))
        assert ch.decode_strings(ours) == list(a.reshape(-1))
        if n:
            dec = ours
            for c in reversed(codecs):
                dec = c.decode(dec)
            assert list(np.asarray(dec, dtype=object).reshape(-1)) == list(a.reshape(-1))
    # v3 names: "vlen-utf8" on a `string` array
    ch = Chain(lib, [("vlen-utf8", {}), ("zstd", {"level": 0, "checksum": False})], "string",
               (3,))
    ch.size_items = 3
    assert ch.decode_strings(ch.encode_strings(["a", "bb", "🙂"])) == ["a", "bb", "🙂"]


def test_deflate_leniency_as_python(lib):
    """Python's gzip reads several members and skips zero padding, its bz2
    several streams, its zlib ignores bytes after the stream: numcodecs
    decodes such chunks, so LSIO does too."""
    import gzip
    import zlib
    a = np.arange(1000, dtype="<i4")
    raw = a.tobytes()
    g = gzip.compress(raw[:1000]) + gzip.compress(raw[1000:]) + b"\0" * 8
    assert bytes(numcodecs.GZip().decode(g)) == raw
    assert Chain(lib, [numcodecs.GZip().get_config()], "<i4", (1000,)).decode(g) == raw
    import bz2
    b = bz2.compress(raw[:1500]) + bz2.compress(raw[1500:])
    assert bytes(numcodecs.BZ2().decode(b)) == raw
    assert Chain(lib, [numcodecs.BZ2().get_config()], "<i4", (1000,)).decode(b) == raw
    z = zlib.compress(raw) + b"trailing"
    assert bytes(numcodecs.Zlib().decode(z)) == raw
    assert Chain(lib, [numcodecs.Zlib().get_config()], "<i4", (1000,)).decode(z) == raw


def test_crc32c_vector(lib):
    assert lib.lsio_crc32c(b"123456789", 9) == 0xE3069283


def test_errors_name_the_codec(lib):
    ch = Chain(lib, [numcodecs.Zstd(1).get_config()], "<f8", (100,))
    enc = nc_encode([numcodecs.Zstd(1)], np.arange(200, dtype="<f8"))
    with pytest.raises(RuntimeError, match="zstd"):
        ch.decode(enc)  # twice the chunk: a bomb, stopped
    with pytest.raises(RuntimeError, match="lz4"):
        Chain(lib, [numcodecs.LZ4().get_config()], "<f8", (100,)).decode(b"\x00\x10\x00\x00xx")


# ------------------------------------------------ fixtures by zarr-python

def v2_arrays(root):
    for zarray in sorted(root.rglob(".zarray")):
        yield zarray.parent, json.loads(zarray.read_text())


def test_fixture_chunks(lib, fixtures_dir):
    root = fixtures_dir / "zarrita" / "v2" / "data.zarr"
    if not root.is_dir():
        pytest.skip(f"no v2 fixture store at {root}")
    checked = 0
    for d, meta in v2_arrays(root):
        filters = meta.get("filters") or []
        comp = meta.get("compressor")
        cfgs = filters + ([comp] if comp else [])
        if any(c["id"] in ("json2", "pickle", "msgpack2") for c in cfgs):
            continue
        # numcodecs 0.11 predates zstd's "checksum" (the writer had a newer one)
        nc = [numcodecs.get_codec({k: v for k, v in c.items()
                                   if not (c["id"] == "zstd" and k == "checksum" and not v)})
              for c in cfgs]
        dtype, chunks = meta["dtype"], tuple(meta["chunks"])
        ch = Chain(lib, cfgs, dtype, chunks, meta.get("order", "C"))
        for f in sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith(".")):
            enc = f.read_bytes()
            if dtype == "|O":
                ch.size_items = int(np.prod(chunks))
                dec = enc
                for c in reversed(nc):
                    dec = c.decode(dec)
                assert ch.decode_strings(enc) == list(np.asarray(dec, dtype=object).reshape(-1))
            else:
                want = nc_decode(nc, enc, dtype, -1)
                assert ch.decode(enc) == native(want).tobytes(), f
            checked += 1
    assert checked > 20


def v3_reference(codecs, enc, dtype, shape):
    """Decode one v3 chunk with numcodecs and numpy alone."""
    import numcodecs.compat
    bb = {"blosc", "gzip", "zstd", "crc32c"}
    i = len(codecs)
    while i > 0 and codecs[i - 1]["name"] in bb:
        c = codecs[i - 1]
        cfg = dict(c.get("configuration") or {})
        if c["name"] == "crc32c":
            enc = enc[:-4]
        elif c["name"] == "blosc":
            enc = bytes(numcodecs.Blosc(cfg["cname"], cfg["clevel"]).decode(enc))
        elif c["name"] == "zstd":
            enc = bytes(numcodecs.Zstd(cfg.get("level", 0)).decode(enc))
        else:
            enc = bytes(numcodecs.GZip(cfg["level"]).decode(enc))
        i -= 1
    ab = codecs[i - 1]
    i -= 1
    if ab["name"] == "vlen-utf8":
        return list(numcodecs.VLenUTF8().decode(enc))
    big = (ab.get("configuration") or {}).get("endian") == "big"
    dt = np.dtype(dtype).newbyteorder(">" if big else "<")
    # the encoded shape: the array→array codecs applied forward to the shape
    eshape = list(shape)
    for c in codecs[:i]:
        if c["name"] == "transpose":
            eshape = [eshape[k] for k in c["configuration"]["order"]]
    a = np.frombuffer(enc, dtype=dt).reshape(eshape).astype(dt.newbyteorder("="))
    for c in reversed(codecs[:i]):
        if c["name"] == "transpose":
            a = np.transpose(a, np.argsort(c["configuration"]["order"]))
        elif c["name"] == "numcodecs.delta":
            d = np.dtype({"int32": "<i4", "int16": "<i2"}.get(c["configuration"]["dtype"],
                                                               c["configuration"]["dtype"]))
            a = numcodecs.Delta(d).decode(a.tobytes()).reshape(a.shape)
        else:
            raise AssertionError(c["name"])
    return np.ascontiguousarray(a)


def test_fixture_chunks_v3(lib, fixtures_dir):
    """Every chunk of the zarr-python 3.1 store (sharded arrays excepted:
    the shard reader's tests cover those) decodes as numcodecs + numpy say."""
    root = fixtures_dir / "zarrita" / "v3" / "data.zarr"
    if not root.is_dir():
        pytest.skip(f"no v3 fixture store at {root}")
    dtypes = {"bool": "|b1", "int8": "|i1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
              "uint8": "|u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8",
              "float16": "<f2", "float32": "<f4", "float64": "<f8", "string": "|O"}
    checked = 0
    for zj in sorted(root.rglob("zarr.json")):
        meta = json.loads(zj.read_text())
        if meta.get("node_type") != "array":
            continue
        codecs = meta["codecs"]
        if any(c["name"] == "sharding_indexed" for c in codecs):
            continue
        shape = tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])
        dtype = dtypes[meta["data_type"]]
        ch = Chain(lib, [(c["name"], c.get("configuration") or {}) for c in codecs],
                   meta["data_type"], shape)
        ch.size_items = int(np.prod(shape))
        cdir = zj.parent / "c"
        for f in sorted(p for p in cdir.rglob("*") if p.is_file()) if cdir.is_dir() else []:
            enc = f.read_bytes()
            want = v3_reference(codecs, enc, dtype, shape)
            if dtype == "|O":
                assert ch.decode_strings(enc) == want, f
            else:
                assert ch.decode(enc) == want.tobytes(), f
            checked += 1
    assert checked > 20
