"""lsio.open / lsio.Array / lsio.open_group against zarr-python 2.13.

Arrays are written by Debian's zarr-python into temporary directories and
every value LSIO returns is compared with zarr-python's (or numpy's
indexing of it): data types, codecs, orders, fill values and missing
chunks, numpy indexing (ints, negative indices, slices with steps,
Ellipsis; 0-d results), read(out=) with no copy, read_many (each chunk read
once), text selections, groups, errors (missing URLs and members, bad
selections, bad out arrays, closed arrays, corrupt chunks), pickling, use
in forked children, and the GIL being released while LSIO reads.

Runs against the build tree (python/ on PYTHONPATH, as tests/run-all sets
it); skips when the extension module is not built.
"""
import errno
import json
import os
import pickle
import threading
import time

import numpy as np
import pytest

from lsio_built import lsio  # skips this module when not built

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")
from zarr_data import write_zarr as write  # noqa: E402


def smooth(shape, dtype="f4", seed=0):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.standard_normal(shape), axis=-1).astype(dtype)


@pytest.fixture
def arr3(work_dir):
    """A ragged-chunked 3-D float32 array: (path, numpy data)."""
    x = smooth((23, 31, 17))
    write(work_dir / "a.zarr", x, (7, 8, 5), fill_value=-1.0)
    return work_dir / "a.zarr", x


# ----------------------------------------------------------- values & dtypes

DTYPES = ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8",
          "<c8", "<c16", ">i4", ">u8", ">f8", ">c16", "|S5", "<U4", ">U3"]


@pytest.mark.parametrize("dt", DTYPES)
def test_dtypes_equal_zarr(work_dir, dt):
    dt = np.dtype(dt)
    rng = np.random.default_rng(1)
    shape = (13, 9)
    if dt.kind == "b":
        x = rng.random(shape) < 0.5
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, size=shape, dtype=dt.newbyteorder("="), endpoint=True)
    elif dt.kind == "f":
        x = rng.standard_normal(shape) * 100
    elif dt.kind == "c":
        x = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    elif dt.kind == "S":
        x = np.array([b"ab", b"", b"hello", b"x\x00y"] * 30)[:117].reshape(shape)
    else:
        x = np.array(["hé", "", "ok", "€€€"] * 30)[:117].reshape(shape)
    x = x.astype(dt)
    z = write(work_dir / "d.zarr", x, (5, 4), compressor=numcodecs.Blosc("lz4", 5, 1))
    a = lsio.open(work_dir / "d.zarr")
    ref = z[...]
    got = a[...]
    assert a.dtype == dt.newbyteorder("=") or (dt.itemsize == 1 and a.dtype == dt)
    assert got.dtype == a.dtype and got.dtype.isnative
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(a[2:11:3, ::-2], ref[2:11:3, ::-2])


@pytest.mark.parametrize("comp", [
    None, numcodecs.Zstd(level=3), numcodecs.GZip(level=4), numcodecs.Zlib(level=1),
    numcodecs.LZ4(), numcodecs.BZ2(level=2), numcodecs.LZMA(preset=1),
    numcodecs.Blosc("zstd", 3, numcodecs.Blosc.BITSHUFFLE)], ids=lambda c: str(c))
def test_codecs_equal_zarr(work_dir, comp):
    x = smooth((19, 40), "f8", seed=2)
    z = write(work_dir / "c.zarr", x, (6, 16), compressor=comp,
              filters=[numcodecs.Delta("<f8")] if comp is None else None)
    a = lsio.open(str(work_dir / "c.zarr"))
    np.testing.assert_array_equal(a[:], z[:])


def test_fortran_order_and_missing_chunks(work_dir):
    x = smooth((20, 30), "<i4", seed=3)
    z = zarr.open_array(str(work_dir / "f.zarr"), mode="w", shape=x.shape, chunks=(6, 7),
                        dtype="<i4", order="F", fill_value=42)
    z[0:6, 0:14] = x[0:6, 0:14]  # only a few chunks stored
    z[18:20, 28:30] = x[18:20, 28:30]
    a = lsio.open(str(work_dir / "f.zarr"))
    assert a.order == "F" and a.fill_value == 42
    ref = z[:]
    assert (ref == 42).sum() > 0
    np.testing.assert_array_equal(a[:], ref)
    np.testing.assert_array_equal(a[::-1, 5:29:4], ref[::-1, 5:29:4])
    assert a.stats()["chunks_missing"] > 0


def test_nan_fill_value(work_dir):
    z = zarr.open_array(str(work_dir / "n.zarr"), mode="w", shape=(10, 10), chunks=(5, 5),
                        dtype="f4", fill_value=np.nan)
    z[0:5, 0:5] = 1.5
    a = lsio.open(str(work_dir / "n.zarr"))
    assert np.isnan(a.fill_value)
    np.testing.assert_array_equal(a[:], z[:])  # NaNs compare equal here


def test_vlen_strings(work_dir):
    x = np.array(["", "a", "héllo", "日本", "emoji 🎉", "x" * 300] * 4, dtype=object).reshape(4, 6)
    z = zarr.open_array(str(work_dir / "s.zarr"), mode="w", shape=x.shape, chunks=(3, 4),
                        dtype=object, object_codec=numcodecs.VLenUTF8())
    z[:] = x
    a = lsio.open(str(work_dir / "s.zarr"))
    assert a.dtype == np.dtype(object)
    got = a[:]
    assert got.dtype == object and got.shape == x.shape
    assert got.tolist() == z[:].tolist()
    assert a[1:, ::-2].tolist() == x[1:, ::-2].tolist()
    assert a[2, 3].shape == () and a[2, 3][()] == x[2, 3]
    out = np.empty((2, 6), dtype=object)
    assert a.read((slice(0, 2),), out=out) is out and out.tolist() == x[:2].tolist()


def test_zero_d_array(work_dir):
    z = zarr.open_array(str(work_dir / "z.zarr"), mode="w", shape=(), dtype="<f8")
    z[...] = 3.25
    a = lsio.open(str(work_dir / "z.zarr"))
    assert a.shape == () and a.ndim == 0
    r = a[...]
    assert isinstance(r, np.ndarray) and r.shape == () and r[()] == 3.25
    assert a[()][()] == 3.25
    with pytest.raises(TypeError):
        len(a)


# ------------------------------------------------------------------ indexing

def random_key(rng, shape):
    key = []
    for n in shape:
        r = rng.random()
        if r < 0.2:
            key.append(int(rng.integers(-n, n)))
        elif r < 0.3:
            key.append(slice(None))
        else:
            a, b = (int(v) for v in rng.integers(-n - 3, n + 3, size=2))
            step = int(rng.choice([1, 1, 2, 3, 7, -1, -2, -5]))
            key.append(slice(rng.choice([a, None]), rng.choice([b, None]), step))
    if rng.random() < 0.2:  # an Ellipsis somewhere
        i = int(rng.integers(0, len(key) + 1))
        drop = int(rng.integers(0, len(key) - i + 1))
        key = key[:i] + [Ellipsis] + key[i + drop:]
    return tuple(key)


def test_indexing_matches_numpy(arr3):
    path, x = arr3
    a = lsio.open(str(path))
    rng = np.random.default_rng(7)
    for _ in range(300):
        key = random_key(rng, x.shape)
        got, ref = a[key], x[key]
        assert isinstance(got, np.ndarray), key
        assert got.shape == np.shape(ref), key
        np.testing.assert_array_equal(got, ref, err_msg=str(key))
    # single terms and the forms users type
    for key in [5, -1, slice(None, None, -1), Ellipsis, (Ellipsis, 3), (2, Ellipsis, -4),
                (slice(3, 3),), (slice(100, 200),), (np.int64(4), np.int32(-2)), ()]:
        np.testing.assert_array_equal(a[key], x[key], err_msg=str(key))
    r = a[1, 2, 3]
    assert isinstance(r, np.ndarray) and r.shape == () and r[()] == x[1, 2, 3]
    assert a[5:5].shape == (0, 31, 17)


def test_text_selection_and_asarray(arr3):
    path, x = arr3
    a = lsio.open(str(path))
    np.testing.assert_array_equal(a.read("2:9, ::-3, 4"), x[2:9, ::-3, 4])
    np.testing.assert_array_equal(a.read("..., 1"), x[..., 1])
    np.testing.assert_array_equal(a.read(), x)
    np.testing.assert_array_equal(np.asarray(a), x)
    assert np.asarray(a, dtype="f8").dtype == np.float64


def test_bad_selections(arr3):
    path, x = arr3
    a = lsio.open(str(path))
    with pytest.raises(IndexError, match="out of bounds"):
        a[23]
    with pytest.raises(IndexError):
        a[0, -32]
    with pytest.raises(IndexError, match="too many indices"):
        a[0, 0, 0, 0]
    with pytest.raises(IndexError):
        a[[1, 2]]
    with pytest.raises(IndexError):
        a[True]
    with pytest.raises(IndexError):
        a[np.bool_(False)]
    with pytest.raises(IndexError):
        a["0:3"]
    with pytest.raises(IndexError, match="single ellipsis"):
        a[..., 0, ...]
    with pytest.raises(ValueError, match="step"):
        a[::0]
    with pytest.raises(ValueError):
        a.read("99, :, :")  # the C parser: -LSIO_ESELECTION
    with pytest.raises(ValueError):
        a.read("0:2:0")
    with pytest.raises(ValueError):
        a.read("abc")
    a[0]  # still usable afterwards


# ---------------------------------------------------------- read(out=...)

def test_read_into_out_no_copy(arr3):
    path, x = arr3
    a = lsio.open(str(path))
    out = np.full((7, 31, 17), 99, dtype="f4")
    r = a.read((slice(3, 10),), out=out)
    assert r is out
    np.testing.assert_array_equal(out, x[3:10])
    # a contiguous view of a bigger buffer: data lands in the buffer itself
    big = np.zeros((4, 5, 17), dtype="f4")
    view = big[1]
    assert a.read((0, slice(2, 7)), out=view) is view
    np.testing.assert_array_equal(big[1], x[0, 2:7])
    assert not big[0].any() and not big[2:].any()
    zero_d = np.empty((), dtype="f4")
    a.read((1, 2, 3), out=zero_d)
    assert zero_d[()] == x[1, 2, 3]


def test_read_out_bad(arr3):
    path, x = arr3
    a = lsio.open(str(path))
    key = (slice(0, 4), slice(0, 5), 0)
    with pytest.raises(TypeError, match="dtype"):
        a.read(key, out=np.empty((4, 5), dtype="f8"))
    with pytest.raises(TypeError, match="dtype"):
        a.read(key, out=np.empty((4, 5), dtype=">f4"))
    with pytest.raises(ValueError, match="shape"):
        a.read(key, out=np.empty((5, 4), dtype="f4"))
    with pytest.raises(ValueError, match="shape"):
        a.read(key, out=np.empty((4, 5, 1), dtype="f4"))
    with pytest.raises(ValueError, match="contiguous"):
        a.read(key, out=np.empty((8, 5), dtype="f4")[::2])
    with pytest.raises(ValueError, match="contiguous"):
        a.read(key, out=np.empty((5, 4), dtype="f4").T)
    ro = np.empty((4, 5), dtype="f4")
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        a.read(key, out=ro)
    with pytest.raises(TypeError):
        a.read(key, out=[[0] * 5] * 4)
    with pytest.raises(TypeError):
        a.read(key, out=bytearray(80))


# --------------------------------------------------------------- read_many

def chunks_touched(key, shape, chunks):
    idx = np.zeros(shape, dtype=bool)
    idx[key] = True
    grid = [range(0, n, c) for n, c in zip(shape, chunks)]
    import itertools
    return {tuple(s // c for s, c in zip(start, chunks))
            for start in itertools.product(*grid)
            if idx[tuple(slice(s, s + c) for s, c in zip(start, chunks))].any()}


def test_read_many_overlapping_reads_each_chunk_once(arr3):
    path, x = arr3
    a = lsio.open(str(path))
    rng = np.random.default_rng(3)
    keys = []
    for _ in range(40):  # overlapping crops
        t, y, xx = (int(rng.integers(0, n - c + 1)) for n, c in zip(x.shape, (4, 10, 6)))
        keys.append((slice(t, t + 4), slice(y, y + 10), slice(xx, xx + 6)))
    keys += [(3, slice(None, None, -2)), (Ellipsis, 0), "1:4, 2, :"]
    before = a.stats()["chunks_read"]
    outs = a.read_many(keys)
    read = a.stats()["chunks_read"] - before
    assert len(outs) == len(keys)
    for k, o in zip(keys, outs):
        ref = x[k] if not isinstance(k, str) else x[1:4, 2, :]
        np.testing.assert_array_equal(o, ref)
    need = set()
    for k in keys:
        need |= chunks_touched(k if not isinstance(k, str) else (slice(1, 4), 2), x.shape,
                               (7, 8, 5))
    assert read == len(need), (read, len(need))
    # module-level form and caller outs
    outs2 = [np.empty((4, 10, 6), "f4") for _ in range(3)]
    r = lsio.read_many(a, keys[:3], outs2)
    assert all(p is q for p, q in zip(r, outs2))
    for k, o in zip(keys[:3], outs2):
        np.testing.assert_array_equal(o, x[k])
    # without outs the results share one allocation, yet stay separate arrays
    assert outs[0].base is not None and outs[0].base is outs[1].base
    assert all(o.flags.c_contiguous and o.flags.writeable and o.flags.aligned for o in outs)
    outs[0][...] = 12345
    np.testing.assert_array_equal(outs[1], x[keys[1]])
    last = outs[-1]
    del outs, r
    np.testing.assert_array_equal(last, x[1:4, 2, :])  # keeps the block alive
    assert a.read_many([]) == []
    assert a.read_many([(slice(2, 2),)])[0].shape == (0, 31, 17)


def test_read_many_bad(arr3):
    path, _ = arr3
    a = lsio.open(str(path))
    with pytest.raises(ValueError, match="outs"):
        a.read_many([(0,), (1,)], [np.empty((31, 17), "f4")])
    with pytest.raises(TypeError):
        a.read_many([(0,)], [np.empty((31, 17), "i4")])
    with pytest.raises(IndexError):
        a.read_many([(0,), (99,)])
    with pytest.raises(TypeError):
        a.read_many(5)


# ------------------------------------------------------------------ metadata

def test_metadata(work_dir):
    x = smooth((12, 20), "<f8")
    z = write(work_dir / "m.zarr", x, (5, 8), fill_value=1.5,
              compressor=numcodecs.Zstd(level=2))
    z.attrs.update({"units": "K", "scale": [1, 2], "nested": {"a": None}})
    a = lsio.open(str(work_dir / "m.zarr"))
    assert a.shape == (12, 20) and a.chunks == (5, 8) and a.shards is None
    assert a.ndim == 2 and a.size == 240 and a.nbytes == 240 * 8 and len(a) == 12
    assert a.dtype == np.dtype("f8") and a.zarr_format == 2 and a.order == "C"
    assert a.fill_value == 1.5 and isinstance(a.fill_value, np.floating)
    assert a.attrs == {"units": "K", "scale": [1, 2], "nested": {"a": None}}
    a.attrs["units"] = "changed"  # a copy
    assert a.attrs["units"] == "K"
    assert a.codecs["compressor"] == {"id": "zstd", "level": 2}
    assert a.url == str(work_dir / "m.zarr") and a.nchunks == 9
    assert a.backend in ("uring", "posix")
    assert "m.zarr" in repr(a) and "(12, 20)" in repr(a)


def test_v3_sharded(work_dir, repo):
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.SourceFileLoader("bench_zarr", str(repo / "bench" / "zarr"))
    spec = importlib.util.spec_from_loader("bench_zarr", loader)
    bz = importlib.util.module_from_spec(spec)
    loader.exec_module(bz)
    x = smooth((8, 32, 48))
    blocks = [((0, 0, i), x[:, :, i * 24:(i + 1) * 24]) for i in range(2)]
    bz.write_v3_sharded(str(work_dir / "v3.zarr"), x.shape, (8, 32, 24), (4, 16, 8), blocks)
    a = lsio.open(str(work_dir / "v3.zarr"))
    assert a.zarr_format == 3 and a.shards == (8, 32, 24) and a.chunks == (4, 16, 8)
    assert a.codecs[0]["name"] == "sharding_indexed"
    np.testing.assert_array_equal(a[:], x)
    before = a.stats()["chunks_read"]
    np.testing.assert_array_equal(a[1:3, 20:30, 40:45], x[1:3, 20:30, 40:45])
    assert a.stats()["chunks_read"] - before == 1  # one inner chunk, not the shard


# ---------------------------------------------------------------- errors

def test_missing_urls(work_dir):
    missing = str(work_dir / "nothing.zarr")
    with pytest.raises(FileNotFoundError) as ei:
        lsio.open(missing)
    assert "nothing.zarr" in str(ei.value) and ei.value.errno == errno.ENOENT
    with pytest.raises(FileNotFoundError):
        lsio.open_group(missing)
    zarr.open_group(str(work_dir / "g.zarr"), mode="w")
    with pytest.raises(FileNotFoundError):
        lsio.open(str(work_dir / "g.zarr"))  # a group, not an array


def test_corrupt_chunk_and_metadata(work_dir):
    x = smooth((10, 10))
    write(work_dir / "bad.zarr", x, (5, 5), compressor=numcodecs.Zstd())
    (work_dir / "bad.zarr" / "1.0").write_bytes(b"this is not zstd data at all")
    a = lsio.open(str(work_dir / "bad.zarr"))
    np.testing.assert_array_equal(a[0:5], x[0:5])  # good chunks read
    with pytest.raises(lsio.Error) as ei:
        a[:]
    assert isinstance(ei.value, OSError)
    assert "1.0" in str(ei.value) and "bad.zarr" in str(ei.value)
    assert ei.value.errno > 0 and ei.value.code
    (work_dir / "meta.zarr").mkdir()
    (work_dir / "meta.zarr" / ".zarray").write_text("{ not json")
    with pytest.raises(lsio.Error, match="meta.zarr"):
        lsio.open(str(work_dir / "meta.zarr"))
    (work_dir / "meta.zarr" / ".zarray").write_text(json.dumps({
        "zarr_format": 2, "shape": [4], "chunks": [2], "dtype": "<f4", "compressor":
        {"id": "no-such-codec"}, "fill_value": 0, "order": "C", "filters": None}))
    with pytest.raises(lsio.Error, match="no-such-codec"):
        lsio.open(str(work_dir / "meta.zarr"))


def test_closed_array(arr3):
    path, x = arr3
    a = lsio.open(str(path))
    a.close()
    a.close()  # harmless
    assert a.closed and "closed" in repr(a)
    for op in (lambda: a[0], lambda: a.read(), lambda: a.read_many([(0,)]), lambda: a.shape,
               lambda: a.attrs, lambda: a.stats(), lambda: len(a), lambda: pickle.dumps(a)):
        with pytest.raises(ValueError, match="closed"):
            op()
    with lsio.open(str(path)) as b:
        np.testing.assert_array_equal(b[0], x[0])
    assert b.closed
    with pytest.raises(ValueError):
        b[0]


def test_options(arr3):
    path, x = arr3
    a = lsio.open(str(path), threads=2, inflight_bytes=1 << 20, backend="posix", io_workers=2,
                  direct=False, pool_bytes=64 << 20)
    assert a.backend == "posix"
    np.testing.assert_array_equal(a[:], x)
    assert a.options["threads"] == 2
    with pytest.raises(ValueError, match="backend"):
        lsio.open(str(path), backend="floppy")
    with pytest.raises(ValueError, match="threads"):
        lsio.open(str(path), threads=0)
    with pytest.raises(TypeError):
        lsio.open(str(path), no_such_option=1)
    with pytest.raises(TypeError):
        lsio.open(str(path), 4)


def test_pickle_reopens(arr3):
    path, x = arr3
    a = lsio.open(str(path), threads=1)
    b = pickle.loads(pickle.dumps(a))
    assert b is not a and b.url == a.url and b.options == {"threads": 1}
    np.testing.assert_array_equal(b[4:9], x[4:9])


# ------------------------------------------------------------------ groups

def test_groups(work_dir):
    root = zarr.open_group(str(work_dir / "g.zarr"), mode="w")
    root.attrs["title"] = "test"
    x = smooth((6, 7))
    root.create_dataset("a", data=x, chunks=(3, 3))
    sub = root.create_group("sub")
    sub.attrs["level"] = 1
    y = np.arange(10, dtype="<i2")
    sub.create_dataset("b", data=y, chunks=(4,))
    for consolidated in (False, True):
        if consolidated:
            zarr.consolidate_metadata(str(work_dir / "g.zarr"))
        g = lsio.open_group(str(work_dir / "g.zarr"))
        assert g.members == ("a", "sub") and g.kinds == ("array", "group")
        assert list(g) == ["a", "sub"] and len(g) == 2 and g.keys() == ["a", "sub"]
        assert g.attrs == {"title": "test"} and g.zarr_format == 2
        assert "a" in g and "sub/b" in g and "nope" not in g and "sub/nope" not in g
        np.testing.assert_array_equal(g["a"][:], x)
        s = g["sub"]
        assert isinstance(s, lsio.Group) and s.attrs == {"level": 1} and s.members == ("b",)
        np.testing.assert_array_equal(s["b"][::-3], y[::-3])
        np.testing.assert_array_equal(g["sub/b"][:], y)
        with pytest.raises(KeyError):
            g["missing"]
        with pytest.raises(KeyError):
            g["sub/missing"]
        with pytest.raises(TypeError):
            g[0]
        arr = g["a"]
        g.close()
        np.testing.assert_array_equal(arr[:], x)  # members outlive the group
        with pytest.raises(ValueError, match="closed"):
            g["a"]


# ------------------------------------------------------------------- threads

def test_two_threads_read_concurrently(arr3):
    path, x = arr3
    a = lsio.open(str(path))
    errors, results = [], {}

    def work(i):
        try:
            rng = np.random.default_rng(i)
            for _ in range(30):
                key = random_key(rng, x.shape)
                np.testing.assert_array_equal(a[key], x[key])
            results[i] = True
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    assert results == {0: True, 1: True}


def test_gil_released_during_read(work_dir):
    """While one thread is inside a long read, another thread keeps running
    Python code: its ticks leave no gap as long as the read (with the GIL
    held for the read, there would be one)."""
    x = smooth((16, 512, 512))
    write(work_dir / "big.zarr", x, (4, 128, 128), compressor=numcodecs.Zlib(level=1))
    a = lsio.open(str(work_dir / "big.zarr"), threads=1, io_workers=1)
    out = np.empty_like(x)
    for _ in range(5):
        span = []
        ticks = []

        def reader():
            t0 = time.perf_counter()
            a.read(out=out)
            span.extend((t0, time.perf_counter()))

        t = threading.Thread(target=reader)
        t.start()
        while t.is_alive():
            ticks.append(time.perf_counter())
        t.join()
        t0, t1 = span
        inside = [v for v in ticks if t0 <= v <= t1]
        if t1 - t0 < 0.03:  # too quick to tell on this machine; read more
            continue
        gaps = np.diff([t0] + inside + [t1])
        assert gaps.max() < 0.5 * (t1 - t0), (gaps.max(), t1 - t0)
        np.testing.assert_array_equal(out, x)
        return
    pytest.skip("reads too fast to observe the GIL on this machine")


def test_close_while_another_thread_reads(work_dir):
    x = smooth((16, 256, 256))
    write(work_dir / "c.zarr", x, (4, 64, 64), compressor=numcodecs.Zlib(level=1))
    a = lsio.open(str(work_dir / "c.zarr"), threads=1)
    got = {}
    started = threading.Event()

    def reader():
        started.set()
        try:
            got["v"] = a[:]
        except ValueError as e:  # closed before the read began
            got["e"] = e

    t = threading.Thread(target=reader)
    t.start()
    started.wait()
    a.close()
    t.join()
    assert "e" in got or np.array_equal(got["v"], x)
    with pytest.raises(ValueError):
        a[0]


_INHERITED = {}  # objects a forked pool worker inherits (not pickled)


def _child_reads(i):
    a, g = _INHERITED["a"], _INHERITED["g"]
    return a[i, ::2], g["x"][:], os.getpid()


def test_forked_child_reopens(arr3, work_dir):
    """After fork() the parent's IO threads are gone: arrays and groups used
    in the child reopen themselves there (PyTorch DataLoader workers)."""
    import multiprocessing
    path, x = arr3
    root = zarr.open_group(str(work_dir / "fg.zarr"), mode="w")
    root.create_dataset("x", data=np.arange(7), chunks=(3,))
    a = lsio.open(str(path), threads=1)
    g = lsio.open_group(str(work_dir / "fg.zarr"))
    np.testing.assert_array_equal(a[0], x[0])  # threads running before the fork
    ctx = multiprocessing.get_context("fork")
    _INHERITED.update(a=a, g=g)
    try:
        with ctx.Pool(2) as pool:
            got = pool.map_async(_child_reads, range(4)).get(timeout=60)
    finally:
        _INHERITED.clear()
    for i, (v, y, pid) in enumerate(got):
        assert pid != os.getpid()
        np.testing.assert_array_equal(v, x[i, ::2])
        np.testing.assert_array_equal(y, np.arange(7))
    g2 = pickle.loads(pickle.dumps(g))
    assert isinstance(g2, lsio.Group) and g2.members == ("x",)
    pid = os.fork()
    if pid == 0:  # a bare fork: the same objects, used in the child
        try:
            ok = np.array_equal(a[3:9], x[3:9]) and np.array_equal(g["x"][:], np.arange(7))
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    deadline = time.time() + 60
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("a read in a forked child hung")
    assert os.waitstatus_to_exitcode(status) == 0
    np.testing.assert_array_equal(a[:], x)  # the parent is unaffected


def test_fspath_and_env(work_dir, arr3):
    path, x = arr3
    a = lsio.open(path)  # a pathlib.Path
    np.testing.assert_array_equal(a[0], x[0])
    assert lsio.__version__ and isinstance(lsio._lsio.lib_version, str)
    assert os.fspath(path) == a.url
