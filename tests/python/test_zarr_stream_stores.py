"""Chunks placed with non-temporal stores (outputs larger than the
last-level cache; LSIO_STREAM_MIN=0 makes every output take that path) read
the same values as zarr-python, over rows of many lengths and at every
alignment of the destination: the stores cover whole 64-byte lines, and
plain copies the head and tail of each run around them."""
import os

import numpy as np
import pytest


def env(stream_min):
    e = dict(os.environ)
    e["LSIO_STREAM_MIN"] = stream_min
    return e


CASES = [
    # dtype, shape, chunks: runs of 1 KiB and more, of odd lengths, and
    # shorter than the 256 bytes from which runs are streamed
    ("<f4", (6, 40, 300), (4, 16, 256)),
    ("|u1", (5, 37, 1001), (3, 11, 333)),
    ("<c16", (3, 9, 70), (2, 4, 33)),
    (">i8", (7, 130), (3, 97)),
    ("<f8", (4, 5, 6, 90), (3, 2, 6, 45)),
]


@pytest.mark.parametrize("dtype,shape,chunks", CASES)
def test_streamed_placement_equals_zarr_python(lsio_zarr, work_dir, dtype, shape, chunks):
    import zarr
    import numcodecs
    rng = np.random.default_rng(sum(shape))
    dt = np.dtype(dtype)
    data = (rng.integers(0, 250, size=shape) if dt.kind in "iu"
            else rng.standard_normal(shape) * 1e3).astype(dt)
    path = work_dir / "a.zarr"
    z = zarr.open_array(str(path), mode="w", shape=shape, chunks=chunks, dtype=dt,
                        compressor=numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE))
    z[...] = data
    ref = zarr.open_array(str(path), mode="r")[...]
    out = work_dir / "out.npy"
    sels = [":"]
    for _ in range(6):  # contiguous ranges starting anywhere: every alignment
        terms = []
        for s in shape:
            a = int(rng.integers(0, s))
            b = int(rng.integers(a + 1, s + 1))
            terms.append(f"{a}:{b}")
        sels.append(",".join(terms))
    for text in sels:
        index = tuple(slice(int(t.split(":")[0] or 0), int(t.split(":")[1] or s))
                      for t, s in zip(text.split(","), shape)) if text != ":" else ...
        for mode in ("0", "off"):
            r = lsio_zarr("get", path, "--select", text, "-o", out, env=env(mode))
            assert r.returncode == 0, f"LSIO_STREAM_MIN={mode} --select {text}: {r.stderr}"
            got = np.load(out)
            assert np.array_equal(got, ref[index]), \
                f"{dtype} {shape} chunks {chunks} --select {text}, LSIO_STREAM_MIN={mode}"


def test_stream_min_setting_read(lsio_zarr, work_dir):
    """A bad LSIO_STREAM_MIN is ignored (the cache's size is used), never a
    failed read; K/M/G suffixes are sizes."""
    import zarr
    path = work_dir / "b.zarr"
    z = zarr.open_array(str(path), mode="w", shape=(64, 512), chunks=(16, 128), dtype="<f4")
    z[...] = np.arange(64 * 512, dtype="<f4").reshape(64, 512)
    out = work_dir / "out.npy"
    for v in ("junk", "-5", "1K", "4m", "1G", ""):
        r = lsio_zarr("get", path, "-o", out, env=env(v))
        assert r.returncode == 0, f"LSIO_STREAM_MIN={v!r}: {r.stderr}"
        assert np.array_equal(np.load(out), z[...])
