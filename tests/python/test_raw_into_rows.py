"""Uncompressed chunks read straight into their rows of the output.

A chunk stored without a compressor whose place in the output is rows of a
larger array (not one contiguous piece) is read with one scattered read
(lsio_range.iov: a readv locally) into those rows, the bytes between them
(an edge chunk's outside, a crop's unselected columns) into a junk
buffer, instead of reading the chunk into a buffer and copying it. Each
read here is compared with zarr-python 2.13 and with the same read made
the ordinary way (LSIO_NO_SCATTER_READS=1), and `chunks_direct` says which
way the chunks went. Chunk files of the wrong size and missing ones must
give the same errors and fill values as before.
"""
import os

import numpy as np
import pytest

from lsio_built import lsio, read_with_and_without  # skips this module when not built

zarr = pytest.importorskip("zarr")
from zarr_data import walk_values as values, write_zarr  # noqa: E402


def write(path, data, chunks, **kw):
    return write_zarr(path, data, chunks, compressor=None, **kw)


def read_both(path, sel):
    """The read with and without the fast path: (result, direct chunks) each."""
    return read_with_and_without(path, sel, "LSIO_NO_SCATTER_READS")


@pytest.mark.parametrize("dtype", ["|u1", "<i2", "<f4", "<f8", "<c16", "|S6"])
def test_whole_and_parts_match_zarr(tmp_path, dtype):
    data = values((6, 45, 700), dtype, seed=np.dtype(dtype).itemsize)
    write(tmp_path / "a", data, (3, 16, 256))  # rows of the output; edges everywhere
    z = zarr.open_array(str(tmp_path / "a"), "r")
    item = np.dtype(dtype).itemsize
    for sel in [np.s_[...], np.s_[1:6, 3:40, 10:690], np.s_[::2, 5::3, :],
                np.s_[4, :, 100:], np.s_[:, 7, :], np.s_[2:5, 1:44, 300:620]]:
        (fast, direct), (slow, direct_off) = read_both(tmp_path / "a", sel)
        want = z[sel]
        np.testing.assert_array_equal(fast, want)
        np.testing.assert_array_equal(slow, want)
        assert direct_off == 0, sel  # no chunk is one contiguous piece here
        if item >= 2:  # rows of 256 elements of 2 bytes or more: pieces
            assert direct > 0, (sel, direct)


def test_crop_gaps_land_in_junk(tmp_path):
    """A crop inside one chunk: the unselected columns between the selected
    runs, and the rows of other planes, must not reach the output."""
    data = values((4, 64, 1024), "<f8", seed=3)
    write(tmp_path / "a", data, (4, 64, 1024))
    a = lsio.open(str(tmp_path / "a"))
    out = np.full((2, 30, 600), -7.0)
    a.read((slice(1, 3), slice(17, 47), slice(200, 800)), out=out)
    np.testing.assert_array_equal(out, data[1:3, 17:47, 200:800])
    assert a.stats()["chunks_direct"] == 1


def test_ordinary_way_where_it_must(tmp_path):
    data = values((6, 45, 700), "<f4", seed=5)
    cases = [
        ("F", dict(order="F"), np.s_[...]),           # columns, not rows
        ("big", dict(), np.s_[:, :, ::-1]),            # descending in the chunk
        ("small", dict(), np.s_[:, :, 3:50]),           # runs of 188 bytes
    ]
    for name, kw, sel in cases:
        write(tmp_path / name, data, (3, 16, 256), **kw)
        (fast, direct), (slow, _) = read_both(tmp_path / name, sel)
        np.testing.assert_array_equal(fast, data[sel])
        np.testing.assert_array_equal(slow, data[sel])
        assert direct == 0, name
    # big-endian: the bytes must be swapped, so they are not read in place
    be = data.astype(">f4")
    write(tmp_path / "be", be, (3, 16, 256))
    (fast, direct), _ = read_both(tmp_path / "be", np.s_[...])
    np.testing.assert_array_equal(fast, data)
    assert direct == 0


def test_wrong_sizes_named_missing_filled(tmp_path):
    data = values((2, 8, 512), "<f4", seed=9)
    write(tmp_path / "a", data, (2, 4, 256), fill_value=-1.5)
    p = tmp_path / "a"
    with open(p / "0.0.1", "ab") as f:  # one byte too many
        f.write(b"x")
    with open(p / "0.1.0", "r+b") as f:  # cut inside the part read
        f.truncate(100)
    for env in ({}, {"LSIO_NO_SCATTER_READS": "1"}):
        os.environ.update(env)
        try:
            a = lsio.open(str(p))
            with pytest.raises(Exception) as e:
                a[:]
            msg = str(e.value)
            assert "0.0.1" in msg or "0.1.0" in msg, msg
            # only the cut chunk, then only the long one
            with pytest.raises(Exception, match=r"chunk 0\.1\.0"):
                a[:, 4:, :256]
            with pytest.raises(Exception, match=r"chunk 0\.0\.1.*8193 bytes, expected 8192"):
                a[:, :4, 256:]
        finally:
            os.environ.pop("LSIO_NO_SCATTER_READS", None)
    os.unlink(p / "0.0.1")
    os.unlink(p / "0.1.0")
    a = lsio.open(str(p))
    got = a[:]
    want = data.copy()
    want[:, :4, 256:] = -1.5
    want[:, 4:, :256] = -1.5
    np.testing.assert_array_equal(got, want)


def test_random_shapes_and_selections(tmp_path):
    """Random arrays (1 to 3 dimensions, rows of 100 to 1500 elements,
    random chunks, some chunk files missing) and random selections, against
    zarr-python; together they must take the scattered way often."""
    rng = np.random.default_rng(2026)
    direct_total = 0
    for i in range(24):
        dt = np.dtype(["<f4", "<i2", "<f8", "|u1", "<u4"][i % 5])
        ndim = int(rng.integers(1, 4))
        shape = tuple(int(rng.integers(2, 12)) for _ in range(ndim - 1)) + (int(rng.integers(100, 1500)),)
        chunks = tuple(int(rng.integers(1, s + 2)) for s in shape)
        data = values(shape, dt, seed=i)
        p = tmp_path / f"c{i}"
        write(p, data, chunks, fill_value=3)
        for f in sorted(x for x in p.iterdir() if not x.name.startswith(".")):
            if rng.random() < 0.15:
                f.unlink()  # reads as the fill value
        z = zarr.open_array(str(p), "r")
        a = lsio.open(str(p))
        for _ in range(6):
            sel = []
            for s in shape:
                lo = int(rng.integers(0, s))
                hi = int(rng.integers(lo + 1, s + 1))
                step = 1 if rng.random() < 0.8 else int(rng.integers(2, 4))
                sel.append(slice(lo, hi, step) if rng.random() < 0.9 else lo)
            sel = tuple(sel)
            np.testing.assert_array_equal(a[sel], z[sel], err_msg=f"case {i} {shape} {chunks} {sel}")
        np.testing.assert_array_equal(a[...], z[...])
        direct_total += a.stats()["chunks_direct"]
    assert direct_total > 50, direct_total
