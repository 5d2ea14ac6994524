"""lsio.buffer_cache: the memory of large results (>= 4 MiB) dropped by the
program is reused for the next results of about its size. Checked: reuse
happens (hits, the same address), reused memory never shows old contents
(arrays of other data and of fill values read into it equal zarr-python's),
the limit is kept (0 turns it off, $LSIO_BUFFER_CACHE sets it), small
results are numpy's own, results pickle and outlive their array, and reads
from several threads get their own memory."""
import itertools
import os
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest

from lsio_built import lsio  # skips this module when not built

zarr = pytest.importorskip("zarr")

SHAPE = (32, 128, 256)  # float32: 4 MiB, chunks of 1 MiB


@pytest.fixture
def arrays(work_dir):
    """Two arrays of the same shape: random data, and mostly missing chunks
    (fill value -7) with one chunk stored."""
    import numcodecs
    rng = np.random.default_rng(3)
    a = zarr.open_array(str(work_dir / "a.zarr"), mode="w", shape=SHAPE, chunks=(8, 128, 256),
                        dtype="<f4", compressor=numcodecs.Zstd(level=1))
    a[...] = rng.standard_normal(SHAPE, dtype=np.float32)
    b = zarr.open_array(str(work_dir / "b.zarr"), mode="w", shape=SHAPE, chunks=(8, 128, 256),
                        dtype="<f4", compressor=numcodecs.Zstd(level=1), fill_value=-7.0)
    b[8:16] = 1.5
    return work_dir / "a.zarr", work_dir / "b.zarr"


@pytest.fixture
def cache():
    """The cache with a known limit; restored afterwards."""
    old = lsio.buffer_cache()["limit"]
    lsio.buffer_cache(0)  # start empty
    lsio.buffer_cache(64 << 20)
    yield
    lsio.buffer_cache(0)
    lsio.buffer_cache(old)


def test_reuse_and_no_old_contents(arrays, cache):
    pa, pb = arrays
    a, b = lsio.open(pa), lsio.open(pb)
    za, zb = zarr.open_array(str(pa), "r"), zarr.open_array(str(pb), "r")
    x = a[:]
    assert not x.flags["OWNDATA"] and x.nbytes == 4 << 20
    addr = x.ctypes.data
    x[...] = np.nan  # what the next result must not show
    st0 = lsio.buffer_cache()
    del x
    st1 = lsio.buffer_cache()
    assert st1["cached"] == st0["cached"] + 1 and st1["cached_bytes"] >= 4 << 20
    y = b[:]  # mostly fill value: every byte still written
    st2 = lsio.buffer_cache()
    assert st2["hits"] == st1["hits"] + 1
    assert y.ctypes.data == addr, "the kept memory was not reused"
    assert np.array_equal(y, zb[:])
    assert not np.isnan(y).any()
    y[...] = 123
    del y
    z = a[:]
    assert z.ctypes.data == addr
    assert np.array_equal(z, za[:])
    # a selection of the same size class reuses too; another size does not
    del z
    w = a[:, :, :200]  # 3.1 MiB: numpy's own memory
    assert w.flags["OWNDATA"]
    assert np.array_equal(w, za[:, :, :200])


def test_read_many_block_reused(arrays, cache):
    """read_many without outs returns views of one block: a large block is
    recycled too, once the last view goes."""
    pa, _ = arrays
    za = zarr.open_array(str(pa), "r")
    a = lsio.open(pa)
    sels = [(slice(0, 16),), (slice(16, 32),), (slice(4, 20), slice(0, 64))]
    xs = lsio.read_many(a, sels)
    assert all(not x.flags["OWNDATA"] for x in xs)
    st = lsio.buffer_cache()
    keep = xs[2]
    del xs
    assert lsio.buffer_cache()["cached"] == st["cached"], "recycled while a view lived"
    del keep
    assert lsio.buffer_cache()["cached"] == st["cached"] + 1
    ys = lsio.read_many(a, sels)
    assert lsio.buffer_cache()["hits"] == st["hits"] + 1
    for y, s in zip(ys, sels):
        assert np.array_equal(y, za[s])


def test_limit(arrays, cache):
    pa, _ = arrays
    a = lsio.open(pa)
    lsio.buffer_cache(10 << 20)  # room for two of the 4 MiB results
    xs = [a[:] for _ in range(4)]
    del xs
    st = lsio.buffer_cache()
    assert st["cached"] == 2 and st["cached_bytes"] <= 10 << 20, st
    lsio.buffer_cache(0)  # off: lets go of everything, no reuse
    st = lsio.buffer_cache()
    assert st["cached"] == 0 and st["cached_bytes"] == 0 and st["limit"] == 0
    hits = st["hits"]
    x = a[:]
    del x
    x = a[:]
    assert x.flags["OWNDATA"]  # numpy's own memory when off
    assert lsio.buffer_cache()["hits"] == hits and lsio.buffer_cache()["cached"] == 0
    with pytest.raises(ValueError):
        lsio.buffer_cache(-1)


@pytest.mark.parametrize("env,want", [("16M", 16 << 20), ("0", 0), ("12345", 12345),
                                      ("2G", 2 << 30)])
def test_limit_from_environment(env, want):
    code = "import lsio; print(lsio.buffer_cache()['limit'])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, LSIO_BUFFER_CACHE=env))
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) == want


def test_results_outlive_array_and_pickle(arrays, cache):
    pa, _ = arrays
    za = zarr.open_array(str(pa), "r")
    a = lsio.open(pa)
    x = a[:]
    a.close()
    del a
    y = pickle.loads(pickle.dumps(x))
    assert np.array_equal(x, za[:]) and np.array_equal(y, x)
    v = x[3:5]  # a view keeps the memory: dropping x must not recycle it
    del x
    a2 = lsio.open(pa)
    other = a2[:]
    assert other.ctypes.data != v.ctypes.data - 3 * 128 * 256 * 4
    assert np.array_equal(v, za[3:5])


def test_threads(arrays, cache):
    pa, pb = arrays
    ref = {str(pa): zarr.open_array(str(pa), "r")[:], str(pb): zarr.open_array(str(pb), "r")[:]}
    bad = []

    def work(p):
        arr = lsio.open(p)
        for _ in range(12):
            x = arr[:]
            if not np.array_equal(x, ref[str(p)]):
                bad.append(p)
            x[...] = -1
            del x

    ts = [threading.Thread(target=work, args=(p,)) for p in (pa, pb, pa, pb)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not bad
    assert lsio.buffer_cache()["hits"] > 0


def test_empty_and_large_crop_batches_reuse(arrays, cache):
    """lsio._lsio.empty: numpy.empty's contract, with cached memory from
    4 MiB; lsio.ml batches of 4 MiB or more reuse the memory of dropped
    batches, and hold the right crops."""
    from lsio import _lsio
    import lsio.ml
    x = _lsio.empty((32, 128, 256), np.float32)
    assert x.shape == SHAPE and x.dtype == np.float32 and x.flags["C_CONTIGUOUS"]
    assert not x.flags["OWNDATA"] and x.flags["WRITEABLE"]
    x[...] = 2.5
    assert float(x.sum()) == 2.5 * x.size
    small = _lsio.empty((3, 5), ">i2")
    assert small.shape == (3, 5) and small.dtype == np.dtype(">i2") and small.flags["OWNDATA"]
    assert _lsio.empty((), "f8").shape == ()
    for shape, dt, exc in (((-1,), "f4", ValueError), ((2,), "O", ValueError),
                           ((2,), "V0", ValueError), ((1 << 62, 1 << 62), "f8", MemoryError),
                           ((2,), "nonsense", TypeError), (3, "f4", TypeError)):
        with pytest.raises(exc):
            _lsio.empty(shape, dt)
    del x
    pa, _ = arrays
    za = zarr.open_array(str(pa), "r")[...]
    a = lsio.open(pa)
    crops = lsio.ml.RandomCrops(a, (16, 64, 64), batch_size=64, seed=5, prefetch=0,
                                batches_per_epoch=4, return_origins=True)  # 16 MiB batches
    hits = lsio.buffer_cache()["hits"]
    n = 0
    for batch, origins in itertools.islice(iter(crops), 4):
        assert not batch.flags["OWNDATA"]
        for b, o in zip(batch, origins):
            assert np.array_equal(b, za[o[0]:o[0] + 16, o[1]:o[1] + 64, o[2]:o[2] + 64])
        n += 1
        del batch, b  # b: a view of the batch
    assert n == 4
    assert lsio.buffer_cache()["hits"] >= hits + 3, "the batches' memory was not reused"


def vma_lazyfree(addr):
    """(start, LazyFree in KiB) of the mapping holding addr, from
    /proc/self/smaps. Adjacent anonymous mappings may be merged into one."""
    cur = None
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(v, 16) for v in head.split("-"))
                cur = lo if lo <= addr < hi else None
            elif cur is not None and head == "LazyFree:":
                return cur, int(line.split()[1])
    raise AssertionError(f"no mapping holds {addr:#x}")


def lazyfree_kib(*addrs):
    """LazyFree of the mappings holding addrs, each mapping counted once."""
    return sum(dict(vma_lazyfree(a) for a in addrs).values())


def test_newest_kept_stays_dirty_older_freed(arrays, cache):
    """The newest dropped result is kept as it is (a loop takes it straight
    back, with no page-table walk per page); once another is dropped after
    it, it is madvise(MADV_FREE)d so that the kernel may take it back. So
    after two drops, one result's worth (4 MiB) is lazily freed, not two."""
    pa, _ = arrays
    a = lsio.open(pa)
    x, y = a[:], a[:]
    px, py = x.ctypes.data, y.ctypes.data
    del x
    assert lazyfree_kib(px, py) == 0  # the newest: not given up
    del y
    assert 3 << 10 <= lazyfree_kib(px, py) <= 4 << 10  # x's only
    z = a[:]  # the newest comes back first
    assert z.ctypes.data == py


def test_fresh_result_faulted_on_the_arrays_pool(arrays):
    """A fresh large result has its pages faulted in before the read, on the
    array's own pool: an array opened with threads=1 starts no other pool
    (the default one would add a thread per core). The result is the data."""
    code = (
        "import sys, os, numpy as np\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import lsio\n"
        "a = lsio.open(sys.argv[2], threads=1)\n"
        "x = a[:]\n"
        "names = [open(f'/proc/self/task/{t}/comm').read().strip()\n"
        "         for t in os.listdir('/proc/self/task')]\n"
        "print(sum(n.startswith('lsio-pool') for n in names), float(x.sum()))\n")
    pydir = os.path.join(os.path.dirname(lsio.__file__), "..")
    r = subprocess.run([sys.executable, "-c", code, pydir, str(arrays[0])],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    pools, total = r.stdout.split()
    assert int(pools) == 1, r.stdout
    want = float(zarr.open_array(str(arrays[0]), "r")[:].sum())
    assert abs(float(total) - want) <= 1e-3 * max(1.0, abs(want))
