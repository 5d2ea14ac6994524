"""Writes that fail half-way leave every chunk either as it was or as
written, never torn, and the error names the location.

- A full file system: a 1 MiB tmpfs (mounted here; skipped where mounting
  is not permitted) holds an array of small (compressed) chunks; rewriting
  it with incompressible data runs out of space part way. Each chunk file
  then decodes to the old block or to the new one, no temporary file is
  left behind, and the error says "No space left on device" and names the
  array and a chunk.
- A read-only file system (the same tmpfs remounted read-only): the write
  fails with EROFS naming the location; nothing changes.
- `lsio copy` into the full tmpfs exits 1 naming the destination.
- A stored chunk that does not decode, met by a partial write: the error
  names its key; the other chunks of that write are stored.
"""
import os
import subprocess

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

from zwrite_binding import LsioError, ZWriter, liblsio_path  # noqa: E402


@pytest.fixture(scope="module")
def zw():
    p = liblsio_path()
    if p is None:
        pytest.skip("liblsio.so is not built (make)")
    return ZWriter(p)


@pytest.fixture
def tmpfs(work_dir):
    mnt = work_dir / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mnt)], capture_output=True)
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


SHAPE, CHUNKS = (16, 64, 64), (2, 64, 64)  # 8 chunks of 32 KiB


def chunk_states(path, old, new):
    """Per chunk key: 'old' or 'new' (fails on anything else)."""
    states = {}
    zs = numcodecs.Zstd()
    for i in range(SHAPE[0] // CHUNKS[0]):
        key = f"{i}.0.0"
        blob = (path / key).read_bytes()
        block = np.frombuffer(zs.decode(blob), "<f4").reshape(CHUNKS)
        sl = slice(i * 2, i * 2 + 2)
        if np.array_equal(block, old[sl]):
            states[key] = "old"
        elif np.array_equal(block, new[sl]):
            states[key] = "new"
        else:
            raise AssertionError(f"chunk {key} is torn")
    return states


def test_full_filesystem_leaves_old_or_new(zw, tmpfs):
    old = np.full(SHAPE, 1.5, "<f4")
    arr = tmpfs / "a.zarr"
    a = zw.create(arr, 2, SHAPE, CHUNKS, "<f4", codecs="zstd:1", fill=0)
    a.write(old)
    a.close()
    # leave about 100 KiB free: room for 3 of the 8 new 32 KiB chunks
    st = os.statvfs(tmpfs)
    free = st.f_bavail * st.f_frsize
    with open(tmpfs / "filler", "wb") as f:
        f.write(b"\0" * max(0, free - 100 * 1024))
    new = np.random.default_rng(0).standard_normal(SHAPE).astype("<f4")  # incompressible
    a = zw.open(arr, SHAPE, inflight=1)  # one chunk at a time: a deterministic order
    with pytest.raises(LsioError) as e:
        a.write(new)
    a.close()
    assert e.value.rc == -28, e.value.msg  # ENOSPC
    assert "No space left on device" in e.value.msg
    assert str(arr) in e.value.msg and "chunk" in e.value.msg
    states = chunk_states(arr, old, new)
    assert "new" in states.values() and "old" in states.values(), states
    assert not [f for f in os.listdir(arr) if "lsio-tmp" in f]
    # with space again, the same write completes
    os.unlink(tmpfs / "filler")
    a = zw.open(arr, SHAPE)
    a.write(new)
    a.close()
    assert set(chunk_states(arr, old, new).values()) == {"new"}


def test_read_only_filesystem(zw, tmpfs):
    old = np.arange(np.prod(SHAPE), dtype="<f4").reshape(SHAPE)
    arr = tmpfs / "r.zarr"
    a = zw.create(arr, 2, SHAPE, CHUNKS, "<f4", codecs="zstd:1", fill=0)
    a.write(old)
    a.close()
    before = {f: (arr / f).read_bytes() for f in os.listdir(arr)}
    r = subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only: {r.stderr.strip()}")
    a = zw.open(arr, SHAPE)
    with pytest.raises(LsioError) as e:
        a.write(np.zeros((2, 64, 64), "<f4") + 7, (slice(4, 6),))
    a.close()
    assert e.value.rc == -30, e.value.msg  # EROFS
    assert str(arr) in e.value.msg and "2.0.0" in e.value.msg
    assert {f: (arr / f).read_bytes() for f in os.listdir(arr)} == before


def test_copy_into_full_filesystem(tmpfs, run_lsio, work_dir):
    x = np.random.default_rng(1).standard_normal((64, 64, 64)).astype("<f4")  # 1 MiB
    z = zarr.open_array(str(work_dir / "src"), mode="w", shape=x.shape, chunks=(8, 64, 64),
                        dtype="<f4", compressor=None)
    z[...] = x
    r = run_lsio("copy", work_dir / "src", tmpfs / "dst", "--no-progress")
    if "no Zarr reader yet" in r.stderr:
        pytest.skip("no Zarr reader in this build")
    assert r.returncode == 1
    assert "No space left on device" in r.stderr and str(tmpfs / "dst") in r.stderr
    assert not [f for f in os.listdir(tmpfs / "dst") if "lsio-tmp" in f]


def test_corrupt_chunk_named(zw, work_dir):
    x = np.ones((8, 8), "<i4")
    a = zw.create(work_dir / "c", 2, x.shape, (4, 4), "<i4", codecs="zstd:1", fill=0)
    a.write(x)
    (work_dir / "c" / "1.1").write_bytes(b"garbage")
    with pytest.raises(LsioError) as e:  # partial writes of 0.0 (fine) and 1.1 (corrupt)
        a.write(np.full((6, 6), 5, "<i4"), (slice(1, 7), slice(1, 7)))
    a.close()
    assert "1.1" in e.value.msg and str(work_dir / "c") in e.value.msg
    assert (work_dir / "c" / "1.1").read_bytes() == b"garbage"
    z = zarr.open_array(str(work_dir / "c"), mode="r")
    assert (z[1:4, 1:4] == 5).all() and z[0, 0] == 1
