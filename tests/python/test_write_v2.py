"""Zarr v2 writing: what LSIO's writer (lib/zwrite, through ctypes) stores,
zarr-python 2.13 reads back identically, and the set of stored chunks is
the one zarr-python itself leaves with write_empty_chunks=False (a chunk
equal to the fill value is not stored, and is deleted when overwritten).

Covers every v2 data type and byte order, the numcodecs compressors and a
filter, C and F order, both key separators, NaN/NaN-less/null fill values,
partial writes with steps, negative steps and integer indices (read, merge,
rewrite), rewriting arrays that zarr-python made, groups and attributes.
"""
import json
import os

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")

from zwrite_binding import LsioError, ZWriter, liblsio_path  # noqa: E402


@pytest.fixture(scope="module")
def zw():
    p = liblsio_path()
    if p is None:
        pytest.skip("liblsio.so is not built (make)")
    w = ZWriter(p)
    if not hasattr(w.L, "lsio_chain_encode"):
        pytest.skip("this build has no codecs")
    return w


def chunk_keys(path):
    out = set()
    for d, _, fs in os.walk(path):
        for f in fs:
            if not f.startswith("."):
                out.add(os.path.relpath(os.path.join(d, f), path))
    return out


def sample(dtype, shape, seed=0, holes=True):
    """Random values of dtype with some all-zero chunk-sized regions."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        x = rng.integers(0, 2, shape).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        x = rng.integers(max(info.min, -10**6), min(info.max, 10**6), shape, endpoint=True).astype(dt)
    elif dt.kind == "f":
        x = (rng.standard_normal(shape) * 100).astype(dt)
        x.flat[::7] = np.nan
    elif dt.kind == "c":
        x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    elif dt.kind == "S":
        x = rng.integers(97, 123, shape + (dt.itemsize,), dtype=np.uint8).view(dt).reshape(shape)
    elif dt.kind == "U":
        n = dt.itemsize // 4
        x = np.array(["".join(chr(c) for c in rng.integers(0x61, 0x3b1, n)) for _ in range(np.prod(shape))],
                     dtype=dt).reshape(shape)
    else:
        raise AssertionError(dt)
    if holes:
        x[:5, :6] = np.zeros((), dt)  # one whole chunk of (5, 6) equal to 0
    return x


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    if a.dtype.kind in "fc":
        np.testing.assert_array_equal(a, b)  # NaN == NaN here
    else:
        assert (a == b).all()


def zarr_python_copy(path, x, chunks, compressor, fill, order="C", filters=None):
    z = zarr.open_array(str(path), mode="w", shape=x.shape, chunks=chunks, dtype=x.dtype,
                        compressor=compressor, fill_value=fill, order=order, filters=filters,
                        write_empty_chunks=False)
    z[...] = x
    return z


DTYPES = ["|b1", "|i1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "|u1", "<u2", ">u2", "<u4",
          "<u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", "|S5", "<U3",
          ">U2"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_roundtrip(zw, work_dir, dtype):
    x = sample(dtype, (23, 17))
    a = zw.create(work_dir / "l", 2, x.shape, (5, 6), dtype, codecs="zstd:3", fill=None
                  if np.dtype(dtype).kind in "SU" else 0)
    a.write(x)
    a.close()
    z = zarr.open_array(str(work_dir / "l"), mode="r")
    assert z.dtype == np.dtype(dtype)
    same(z[...], x)
    if np.dtype(dtype).kind not in "SU":
        import numcodecs
        zarr_python_copy(work_dir / "r", x, (5, 6), numcodecs.Zstd(level=3), 0)
        assert chunk_keys(work_dir / "l") == chunk_keys(work_dir / "r")
        assert "0.0" not in chunk_keys(work_dir / "l")  # the all-zero chunk


CODECS = ["none", "zstd:1", "zstd:9", "gzip:6", "zlib:5", "lz4:1", "bz2:9", "lzma:6",
          "blosc:lz4:5:shuffle", "blosc:zstd:3:bitshuffle", "blosc:blosclz:9:noshuffle",
          '{"compressor": {"id": "zstd", "level": 2}, "filters": [{"id": "delta", "dtype": "<i4"}]}',
          '{"compressor": null, "filters": [{"id": "shuffle", "elementsize": 4}]}']


@pytest.mark.parametrize("codec", CODECS)
def test_codec_roundtrip(zw, work_dir, codec):
    x = sample("<i4", (40, 33), seed=3)
    a = zw.create(work_dir / "l", 2, x.shape, (8, 10), "<i4", codecs=codec, fill=0)
    a.write(x)
    a.close()
    same(zarr.open_array(str(work_dir / "l"), mode="r")[...], x)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("sep", [".", "/"])
def test_order_and_separator(zw, work_dir, order, sep):
    x = sample("<f8", (3, 19, 14), seed=5, holes=False)
    a = zw.create(work_dir / "l", 2, x.shape, (2, 5, 4), "<f8", codecs="blosc:lz4:5:shuffle",
                  fill='"NaN"', order=order, separator=sep)
    a.write(x)
    a.close()
    meta = json.loads((work_dir / "l" / ".zarray").read_text())
    assert meta["order"] == order and meta["fill_value"] == "NaN"
    z = zarr.open_array(str(work_dir / "l"), mode="r")
    same(z[...], x)
    if sep == "/":
        assert (work_dir / "l" / "0" / "0" / "0").is_file()


def random_key(rng, shape):
    key = []
    for n in shape:
        r = rng.random()
        if r < 0.15:
            key.append(int(rng.integers(0, n)))
        elif r < 0.3:
            key.append(slice(None))
        else:
            a, b = sorted(rng.integers(0, n + 1, 2))
            step = int(rng.choice([1, 1, 1, 2, 3, -1, -2]))
            key.append(slice(a, max(b, a + 1), step) if step > 0 else slice(max(b, a + 1) - 1, a - 1 if a else None, step))
    return tuple(key)


def positive(key, val, shape):
    """zarr-python takes no negative steps: the same write with positive
    ones (the value flipped along those axes)."""
    out, axis = [], 0
    for k, n in zip(key, shape):
        if isinstance(k, slice):
            r = range(*k.indices(n))
            if r.step < 0 and len(r):
                out.append(slice(r[-1], r[0] + 1, -r.step))
                val = np.flip(val, axis)
            else:
                out.append(k)
            axis += 1
        else:
            out.append(k)
    return tuple(out), val


@pytest.mark.parametrize("fill", [0, 7, "NaN", None])
def test_partial_writes_match_zarr_python(zw, work_dir, fill):
    """The same sequence of writes through LSIO and through zarr-python give
    the same values and the same stored chunks."""
    import numcodecs
    rng = np.random.default_rng(11)
    shape, chunks = (26, 31), (6, 7)
    fv = np.nan if fill == "NaN" else fill
    a = zw.create(work_dir / "l", 2, shape, chunks, "<f4", codecs="zstd:3",
                  fill='"NaN"' if fill == "NaN" else fill)
    z = zarr.open_array(str(work_dir / "r"), mode="w", shape=shape, chunks=chunks, dtype="<f4",
                        compressor=numcodecs.Zstd(level=3), fill_value=fv,
                        write_empty_chunks=False)
    for i in range(40):
        key = random_key(rng, shape)
        val = np.asarray(np.zeros(shape, "<f4")[key])
        kind = i % 4
        if kind == 0:
            val = (rng.standard_normal(val.shape) * 10).astype("<f4")
        elif kind == 1 and fill is not None:
            val = np.full(val.shape, fv, "<f4")  # writes of the fill value
        else:
            val = rng.integers(-3, 3, val.shape).astype("<f4")
        a.write(val, key)
        zkey, zval = positive(key, val, shape)
        z[zkey] = zval
    st = a.stats()
    a.close()
    got = zarr.open_array(str(work_dir / "l"), mode="r")[...]
    same(got, z[...])
    if fill is not None:
        assert chunk_keys(work_dir / "l") == chunk_keys(work_dir / "r")
    assert st["objects_merged"] > 0


def test_fill_chunk_deleted_when_overwritten(zw, work_dir):
    x = np.arange(1, 101, dtype="<i2").reshape(10, 10)
    a = zw.create(work_dir / "l", 2, x.shape, (5, 5), "<i2", codecs="none", fill=-1)
    a.write(x)
    assert chunk_keys(work_dir / "l") == {"0.0", "0.1", "1.0", "1.1"}
    a.write(np.full((5, 5), -1, "<i2"), (slice(5, 10), slice(0, 5)))  # whole chunk, no read
    a.write(np.full((5, 3), -1, "<i2"), (slice(0, 5), slice(5, 8)))   # part of 0.1
    a.write(np.full((5, 2), -1, "<i2"), (slice(0, 5), slice(8, 10)))  # rest of 0.1
    a.close()
    assert chunk_keys(work_dir / "l") == {"0.0", "1.1"}
    x[5:, :5] = -1
    x[:5, 5:] = -1
    same(zarr.open_array(str(work_dir / "l"), mode="r")[...], x)


def test_write_empty_chunks_option(zw, work_dir):
    a = zw.create(work_dir / "l", 2, (10,), (5,), "<u1", fill=0, empty=True)
    a.write(np.zeros(10, "<u1"))
    a.close()
    assert chunk_keys(work_dir / "l") == {"0", "1"}


def test_rewrite_array_made_by_zarr_python(zw, work_dir):
    import numcodecs
    x = sample("<i4", (30, 20), seed=8, holes=False)
    zarr_python_copy(work_dir / "r", x, (7, 9), numcodecs.Blosc("zstd", 4, numcodecs.Blosc.SHUFFLE),
                     0, order="F", filters=[numcodecs.Delta("<i4")])
    a = zw.open(work_dir / "r", x.shape)
    y = np.full((12, 5), 99, "<i4")
    a.write(y, (slice(3, 27, 2), slice(2, 7)))
    x[3:27:2, 2:7] = y
    a.write(np.arange(20, dtype="<i4"), (29,))
    x[29] = np.arange(20)
    a.close()
    same(zarr.open_array(str(work_dir / "r"), mode="r")[...], x)


def test_zero_dim_and_one_dim(zw, work_dir):
    a = zw.create(work_dir / "s", 2, (), (), "<f8", fill=0)
    a.write(np.array(3.5))
    a.close()
    assert zarr.open_array(str(work_dir / "s"), mode="r")[()] == 3.5
    x = np.arange(1000, dtype="<u8")
    a = zw.create(work_dir / "v", 2, x.shape, (64,), "<u8", codecs="lz4:1", fill=5)
    a.write(x)
    a.close()
    same(zarr.open_array(str(work_dir / "v"), mode="r")[...], x)


def test_group_and_attributes(zw, work_dir):
    zw.group(work_dir / "g", 2, attrs={"title": "t", "n": [1, 2]})
    a = zw.create(work_dir / "g" / "x", 2, (4, 4), (2, 2), "<f4", fill=0,
                  attrs={"units": "K"})
    a.write(np.ones((4, 4), "<f4"))
    a.close()
    g = zarr.open_group(str(work_dir / "g"), mode="r")
    assert dict(g.attrs) == {"title": "t", "n": [1, 2]}
    assert dict(g["x"].attrs) == {"units": "K"}
    same(g["x"][...], np.ones((4, 4), "<f4"))


def test_existing_node_refused_then_overwritten(zw, work_dir):
    a = zw.create(work_dir / "l", 2, (4,), (2,), "<i4", fill=0)
    a.write(np.arange(4, dtype="<i4"))
    a.close()
    with pytest.raises(LsioError) as e:
        zw.create(work_dir / "l", 2, (4,), (2,), "<i4", fill=0)
    assert e.value.rc == -17 and str(work_dir / "l") in e.value.msg
    a = zw.create(work_dir / "l", 2, (6,), (3,), "<i4", fill=0, overwrite=True)
    a.close()
    assert chunk_keys(work_dir / "l") == set()
    same(zarr.open_array(str(work_dir / "l"), mode="r")[...], np.zeros(6, "<i4"))


def test_bad_specs_name_the_problem(zw, work_dir):
    with pytest.raises(LsioError) as e:
        zw.create(work_dir / "l", 2, (4,), (2,), "<i4", codecs='{"id": "nosuchcodec"}')
    assert "nosuchcodec" in e.value.msg
    with pytest.raises(LsioError) as e:
        zw.create(work_dir / "l", 2, (4,), (2,), "<i4", codecs="zstd:3:4")
    assert "zstd:3:4" in e.value.msg
    with pytest.raises(LsioError) as e:
        zw.create(work_dir / "l", 2, (4,), (2,), "<i4", fill="1.5")
    assert "fill value" in e.value.msg
    assert not (work_dir / "l").exists()
    a = zw.create(work_dir / "l", 2, (4,), (2,), "<i4")
    with pytest.raises(LsioError) as e:
        a.write(np.zeros(3, "<i4"))
    a.close()


@pytest.mark.parametrize("codec", ["none", "zstd:3", "blosc:lz4:5:shuffle"])
def test_strings(zw, work_dir, codec):
    rng = np.random.default_rng(4)
    words = ["", "a", "bé", "héllo wörld", "😀 x", "0" * 40]
    x = np.array([words[i] for i in rng.integers(0, len(words), 37)], dtype=object).reshape(37)
    x[:5] = ""  # a chunk of the fill value
    a = zw.create(work_dir / "s", 2, x.shape, (5,), "|O", codecs=codec, fill='""')
    a.write_strings(x)
    a.write_strings(["new", "ü"], (slice(11, 13),))  # partial: read, merge, rewrite
    x[11:13] = ["new", "ü"]
    a.close()
    meta = json.loads((work_dir / "s" / ".zarray").read_text())
    assert meta["dtype"] == "|O" and meta["filters"][0]["id"] == "vlen-utf8"
    z = zarr.open_array(str(work_dir / "s"), mode="r")
    assert list(z[...]) == list(x)
    assert "0" not in chunk_keys(work_dir / "s")


@pytest.mark.parametrize("dt,fill", [("<i8", 2**53 + 1), ("<i8", 2**63 - 1), ("<u8", 2**64 - 1),
                                     ("<i8", -(2**53) - 3), ("<u2", 65535)])
def test_large_integer_fill_exact(zw, work_dir, dt, fill):
    """Integer fill values past 2^53 are taken from their text, not from a
    double: a partial write of a new chunk fills the rest of it with the
    exact value (2^53 + 1 used to become 2^53), and zarr-python reads it."""
    a = zw.create(work_dir / "l", 2, (8,), (4,), dt, codecs="zstd:3", fill=str(fill))
    a.write(np.array([5], dt), (slice(1, 2),))
    a.close()
    got = zarr.open_array(str(work_dir / "l"), mode="r")
    assert got.fill_value == fill
    assert got[...].tolist() == [fill, 5, fill, fill, fill, fill, fill, fill]
    assert sorted(f for f in os.listdir(work_dir / "l") if not f.startswith(".")) == ["0"]


@pytest.mark.parametrize("dt,fill", [("<i8", "9223372036854775808"), ("<u8", "-1"),
                                     ("<u2", "65536"), ("<i1", "-129"), ("<u1", "256.0")])
def test_integer_fill_out_of_range_refused(zw, work_dir, dt, fill):
    with pytest.raises(LsioError):
        zw.create(work_dir / "l", 2, (8,), (4,), dt, codecs="zstd:3", fill=fill)
