"""`lsio copy`: what zarr-python 2.13 writes, `lsio copy` rewrites (as is,
rechunked, recompressed, to Zarr v3 and back, whole groups) and zarr-python
(v2) or zarrita.js (v3) reads back identically; without options the copy
keeps the source's chunks, codecs, order, fill value and attributes; errors
name the location; a progress bar is drawn on a terminal only.
"""
import json
import os
import pty
import subprocess

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

from test_write_v3 import zarrita_read  # noqa: E402


def make_src(path, x, chunks=(8, 16, 32), compressor=None, filters=None, order="C", fill=0,
             attrs=None):
    z = zarr.open_array(str(path), mode="w", shape=x.shape, chunks=chunks, dtype=x.dtype,
                        compressor=compressor, filters=filters, order=order, fill_value=fill)
    z[...] = x
    if attrs:
        z.attrs.update(attrs)
    return z


def data(shape=(30, 40, 50), dtype="<f4", seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 50).astype(dtype)
    x[:8, :16, :32] = 0  # a fill-value chunk
    return x


def meta(path):
    m = json.loads((path / ".zarray").read_text())
    m.pop("dimension_separator", None)
    return m


@pytest.fixture
def copy(run_lsio):
    def run(*args):
        r = run_lsio("copy", *map(str, args), "--no-progress")
        assert r.returncode == 0, r.stderr
        return r
    return run


SOURCES = {
    "blosc": dict(compressor=numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE)),
    "zstd_F": dict(compressor=numcodecs.Zstd(3), order="F"),
    "raw_nan": dict(compressor=None, fill=np.nan),
    "delta": dict(compressor=numcodecs.Zlib(4), filters=[numcodecs.Delta("<i4")], dtype="<i4"),
    "big_endian": dict(compressor=numcodecs.GZip(5), dtype=">i8", fill=None),
}


@pytest.mark.parametrize("name", list(SOURCES))
def test_copy_keeps_everything(lsio_zarr, copy, work_dir, name):
    kw = dict(SOURCES[name])
    x = data(dtype=kw.pop("dtype", "<f4"))
    make_src(work_dir / "s", x, attrs={"units": "K", "n": 3}, **kw)
    copy(work_dir / "s", work_dir / "d")
    assert meta(work_dir / "d") == meta(work_dir / "s")
    z = zarr.open_array(str(work_dir / "d"), mode="r")
    np.testing.assert_array_equal(z[...], x)
    assert dict(z.attrs) == {"units": "K", "n": 3}
    # zarr-python 2.13 stored the all-zero chunk (write_empty_chunks=True);
    # the copy leaves it out when 0 is the fill value
    src_keys = {f for f in os.listdir(work_dir / "s") if not f.startswith(".")}
    if kw.get("fill", 0) == 0:
        src_keys.discard("0.0.0")
    assert {f for f in os.listdir(work_dir / "d") if not f.startswith(".")} == src_keys


@pytest.mark.parametrize("chunks,codec", [("10,10,10", "none"), ("30,40,50", "zstd:1"),
                                          ("7,9,50", "gzip:6"), ("16,16,16", "blosc:zstd:3:bitshuffle"),
                                          ("4,40,50", "lz4:1")])
def test_rechunk_and_recompress(lsio_zarr, copy, work_dir, chunks, codec):
    x = data(seed=1)
    make_src(work_dir / "s", x, compressor=numcodecs.Zstd(3))
    copy(work_dir / "s", work_dir / "d", "--chunks", chunks, "--codec", codec)
    z = zarr.open_array(str(work_dir / "d"), mode="r")
    assert list(z.chunks) == [int(c) for c in chunks.split(",")]
    np.testing.assert_array_equal(z[...], x)


@pytest.mark.parametrize("shards", [None, "16,24,24"])
def test_v2_to_v3_and_back(lsio_zarr, copy, work_dir, node_dir, shards):
    x = data(shape=(20, 24, 28), seed=2)
    make_src(work_dir / "s", x, chunks=(8, 8, 8),
             compressor=numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE), attrs={"a": [1]})
    args = ["--format", "3"] + (["--shards", shards] if shards else [])
    copy(work_dir / "s", work_dir / "v3", *args)
    m = json.loads((work_dir / "v3" / "zarr.json").read_text())
    assert m["attributes"] == {"a": [1]}
    assert (m["codecs"][0]["name"] == "sharding_indexed") == bool(shards)
    np.testing.assert_array_equal(zarrita_read(node_dir, work_dir, ["v3"])["v3"], x)
    copy(work_dir / "v3", work_dir / "back", "--format", "2")
    z = zarr.open_array(str(work_dir / "back"), mode="r")
    np.testing.assert_array_equal(z[...], x)
    assert z.chunks == (8, 8, 8) and z.compressor.cname == "lz4"
    # v3 to v3 without options keeps the shards
    copy(work_dir / "v3", work_dir / "v3b")
    m2 = json.loads((work_dir / "v3b" / "zarr.json").read_text())
    assert m2["chunk_grid"] == m["chunk_grid"] and m2["codecs"] == m["codecs"]


def test_group_copy(lsio_zarr, copy, work_dir, node_dir):
    g = zarr.open_group(str(work_dir / "s"), mode="w")
    g.attrs["title"] = "t"
    a = g.create_dataset("a", data=np.arange(100, dtype="<i2").reshape(10, 10), chunks=(3, 4))
    a.attrs["u"] = 1
    sub = g.create_group("sub")
    sub.attrs["x"] = "y"
    sub.create_dataset("b", data=np.linspace(0, 1, 33), chunks=(10,))
    copy(work_dir / "s", work_dir / "d")
    d = zarr.open_group(str(work_dir / "d"), mode="r")
    assert dict(d.attrs) == {"title": "t"} and dict(d["sub"].attrs) == {"x": "y"}
    assert dict(d["a"].attrs) == {"u": 1}
    np.testing.assert_array_equal(d["a"][...], g["a"][...])
    np.testing.assert_array_equal(d["sub/b"][...], g["sub/b"][...])
    copy(work_dir / "s", work_dir / "v3", "--format", "3")
    got = zarrita_read(node_dir, work_dir / "v3", ["a", "sub/b"])
    np.testing.assert_array_equal(got["a"], g["a"][...])
    np.testing.assert_array_equal(got["sub/b"], g["sub/b"][...])


def test_copy_fixture_arrays(lsio_zarr, copy, work_dir, fixtures_dir):
    """The zarrita fixture arrays (zarr-python 2.18) copied one by one: the
    copy reads back like the source (vlen-utf8 strings included)."""
    root = fixtures_dir / "zarrita" / "v2" / "data.zarr"
    done = 0
    for name in sorted(os.listdir(root)):
        if not (root / name / ".zarray").is_file():
            continue
        try:
            src = zarr.open_array(str(root / name), mode="r")
            ref = src[...]
        except Exception:  # zarr-python 2.13 cannot read it (zstd checksum)
            continue
        r = subprocess.run([str(os.environ.get("LSIO_BIN", "build/lsio")), "copy",
                            str(root / name), str(work_dir / name), "--no-progress"],
                           capture_output=True, text=True, timeout=60)
        if name.endswith("json2.O"):  # no json2 codec in LSIO
            assert r.returncode == 1 and name in r.stderr, r.stderr
            continue
        assert r.returncode == 0, f"{name}: {r.stderr}"
        got = zarr.open_array(str(work_dir / name), mode="r")
        if ref.dtype == object:
            assert list(got[...].ravel()) == list(ref.ravel()), name
        else:
            np.testing.assert_array_equal(got[...], ref, err_msg=name)
        done += 1
    assert done >= 20


def test_errors_name_the_location(lsio_zarr, run_lsio, work_dir):
    make_src(work_dir / "s", data(shape=(4, 4, 4)), chunks=(2, 2, 2))
    r = run_lsio("copy", work_dir / "nothing", work_dir / "d")
    assert r.returncode == 1 and str(work_dir / "nothing") in r.stderr
    assert run_lsio("copy", work_dir / "s", work_dir / "d").returncode == 0
    r = run_lsio("copy", work_dir / "s", work_dir / "d")
    assert r.returncode == 1 and str(work_dir / "d") in r.stderr and "exists" in r.stderr
    r = run_lsio("copy", work_dir / "s", work_dir / "d", "--overwrite", "--chunks", "1,1,1")
    assert r.returncode == 0, r.stderr
    assert zarr.open_array(str(work_dir / "d"), mode="r").chunks == (1, 1, 1)
    r = run_lsio("copy", work_dir / "s", work_dir / "e", "--chunks", "2,2")
    assert r.returncode == 1 and "--chunks" in r.stderr
    r = run_lsio("copy", work_dir / "s", work_dir / "e", "--codec", "snappy:1")
    assert r.returncode == 1 and "snappy" in r.stderr
    r = run_lsio("copy", work_dir / "s", work_dir / "e", "--shards", "4,4,4")
    assert r.returncode == 1 and "--format 3" in r.stderr
    assert run_lsio("copy", work_dir / "s").returncode == 2


def test_progress_bar_on_a_terminal_only(lsio_zarr, lsio_bin, work_dir):
    make_src(work_dir / "s", data(shape=(64, 64, 64), seed=3), chunks=(8, 64, 64))
    r = subprocess.run([str(lsio_bin), "copy", str(work_dir / "s"), str(work_dir / "p")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == ""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(str(lsio_bin), [str(lsio_bin), "copy", str(work_dir / "s"), str(work_dir / "t")])
    out = b""
    while True:
        try:
            b = os.read(fd, 4096)
        except OSError:
            break
        if not b:
            break
        out += b
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0, out
    assert b"copy [" in out and b"100.0%" in out
    np.testing.assert_array_equal(zarr.open_array(str(work_dir / "t"), mode="r")[...],
                                  zarr.open_array(str(work_dir / "s"), mode="r")[...])


def test_strings_across_formats(lsio_zarr, copy, work_dir, node_dir):
    x = np.array(["", "a", "bé", "héllo wörld", "😀", "zz"] * 5, dtype=object)
    z = zarr.open_array(str(work_dir / "s"), mode="w", shape=x.shape, chunks=(4,), dtype=str,
                        object_codec=numcodecs.VLenUTF8(), compressor=numcodecs.Zstd(2))
    z[...] = x
    copy(work_dir / "s", work_dir / "v3", "--format", "3")
    out = work_dir / "zarrita.json"
    with open(out, "w") as f:
        subprocess.run(["node", str(node_dir / "read_zarrita.mjs"), str(work_dir), "v3"],
                       stdout=f, timeout=60)
    assert json.loads(out.read_text())["data"] == list(x)
    copy(work_dir / "v3", work_dir / "v2", "--format", "2")
    assert list(zarr.open_array(str(work_dir / "v2"), mode="r")[...]) == list(x)
