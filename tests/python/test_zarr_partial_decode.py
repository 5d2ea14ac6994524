"""Partial decoding of blosc chunks: a selection that needs a small part of
a chunk decodes only the compressed blocks that hold it (blosc_getitem).

Checked against zarr-python 2.13 (Debian) over random crops, read_many,
negative steps and Fortran order; and shown to happen: with a block of a
chunk damaged, a crop of another block of that chunk still reads (the
damaged block is never decoded) while the whole array, or the same crop
with LSIO_NO_PARTIAL_DECODE=1, fails naming the chunk."""
import os

import numpy as np
import pytest
import zarr
from numcodecs import Blosc

import lsio


def _make(path, order="C", cname="lz4", shuffle=Blosc.SHUFFLE, dtype="<f4"):
    rng = np.random.default_rng(5)
    data = np.cumsum(rng.standard_normal((32, 256, 512)), axis=2).astype(dtype)
    z = zarr.open_array(str(path), mode="w", shape=data.shape, chunks=(16, 256, 256),
                        dtype=dtype, order=order,
                        compressor=Blosc(cname=cname, clevel=5, shuffle=shuffle,
                                         blocksize=0))
    z[...] = data
    return data


@pytest.fixture
def no_partial(monkeypatch):
    def on():
        monkeypatch.setenv("LSIO_NO_PARTIAL_DECODE", "1")
    return on


@pytest.mark.parametrize("order,cname,shuffle,dtype", [
    ("C", "lz4", Blosc.SHUFFLE, "<f4"),
    ("F", "zstd", Blosc.BITSHUFFLE, "<f8"),
    ("C", "blosclz", Blosc.NOSHUFFLE, "<i2"),
    ("C", "lz4", Blosc.SHUFFLE, ">f4"),
])
def test_crops_equal_zarr_python(work_dir, order, cname, shuffle, dtype):
    path = work_dir / "a.zarr"
    data = _make(path, order, cname, shuffle, dtype)
    z = zarr.open_array(str(path), mode="r")
    a = lsio.open(str(path))
    rng = np.random.default_rng(11)
    sels = []
    for _ in range(60):
        o = [int(rng.integers(0, s - c + 1)) for s, c in zip(data.shape, (3, 7, 9))]
        sels.append(tuple(slice(x, x + c) for x, c in zip(o, (3, 7, 9))))
    for s in sels:
        np.testing.assert_array_equal(a[s], z[s])
    outs = [np.empty((3, 7, 9), dtype=a.dtype) for _ in sels]
    a.read_many(sels, outs)
    for s, o in zip(sels, outs):
        np.testing.assert_array_equal(o, data[s])
    for s in [(5, slice(None), 17), (slice(30, 2, -5), 3, slice(None, None, -7)),
              (slice(14, 18), slice(250, 256), slice(253, 259)), (0, 0, 0)]:
        np.testing.assert_array_equal(a[s], data[s])
    a.close()


def test_only_needed_blocks_decoded(work_dir, no_partial):
    path = work_dir / "a.zarr"
    data = _make(path)
    key = "0.0.0"
    raw = bytearray((path / key).read_bytes())
    nbytes, blocksize = int.from_bytes(raw[4:8], "little"), int.from_bytes(raw[8:12], "little")
    nblocks = -(-nbytes // blocksize)
    assert nblocks >= 4
    # the last block's start offset points past the end: that block (the
    # end of the chunk's last plane) cannot be decoded
    at = 16 + 4 * (nblocks - 1)
    raw[at:at + 4] = (len(raw) + 1000).to_bytes(4, "little")
    (path / key).write_bytes(bytes(raw))
    a = lsio.open(str(path))
    crop = (slice(0, 2), slice(0, 5), slice(0, 5))  # the chunk's first block
    np.testing.assert_array_equal(a[crop], data[crop])
    with pytest.raises(lsio.Error, match=r"chunk 0\.0\.0"):
        a[:]
    with pytest.raises(lsio.Error, match=r"chunk 0\.0\.0"):
        a[15, 255, 255]  # the element in the damaged block
    a.close()
    no_partial()
    a = lsio.open(str(path))
    with pytest.raises(lsio.Error, match=r"chunk 0\.0\.0"):
        a[crop]
    a.close()


def test_sparse_reads_of_known_chunks(work_dir, monkeypatch):
    """A crop of a blosc chunk reads its header and only the blocks it
    needs — fewer bytes, same values: locally the first read probes the
    header (4 KiB), later ones remember it; a chunk written again since
    (another header) is read whole, a chunk deleted since reads as the fill
    value."""
    path = work_dir / "a.zarr"
    data = _make(path)
    z = zarr.open_array(str(path), mode="r+")
    a = lsio.open(str(path))
    crops = [(slice(1, 3), slice(10, 20), slice(30, 40)),
             (slice(17, 21), slice(200, 256), slice(250, 262)),
             (slice(28, 30), slice(0, 9), slice(500, 512))]

    def read_all():
        before = a.stats()["bytes_read"]
        got = [a[c] for c in crops]
        return got, a.stats()["bytes_read"] - before

    monkeypatch.setenv("LSIO_NO_SPARSE_READS", "1")
    got, whole = read_all()
    monkeypatch.delenv("LSIO_NO_SPARSE_READS")
    for g, c in zip(got, crops):
        np.testing.assert_array_equal(g, data[c])
    got, first = read_all()  # local: each chunk's header probed, then its blocks
    for g, c in zip(got, crops):
        np.testing.assert_array_equal(g, data[c])
    got, second = read_all()  # headers known
    for g, c in zip(got, crops):
        np.testing.assert_array_equal(g, data[c])
    assert first < whole * 0.75, (whole, first)
    assert second <= first, (first, second)
    # read_many too
    outs = [np.empty(data[c].shape, data.dtype) for c in crops]
    a.read_many(crops, outs)
    for o, c in zip(outs, crops):
        np.testing.assert_array_equal(o, data[c])
    # written again (other values, so another header): read whole, new values
    new = data * 2 + 1
    z[...] = new
    got, third = read_all()
    for g, c in zip(got, crops):
        np.testing.assert_array_equal(g, new[c])
    assert third > second
    # deleted: the fill value
    (path / "1.0.0").unlink()
    want = new[crops[1]].copy()
    want[:, :, :6] = 0  # x 250..255 lay in 1.0.0; 256..261 in 1.0.1
    np.testing.assert_array_equal(a[crops[1]], want)
    np.testing.assert_array_equal(a[crops[0]], new[crops[0]])
    # off: as many bytes as the first time
    monkeypatch.setenv("LSIO_NO_SPARSE_READS", "1")
    before = a.stats()["bytes_read"]
    a[crops[0]]
    a[crops[0]]
    assert a.stats()["bytes_read"] - before >= 2 * (path / "0.0.0").stat().st_size
    a.close()
