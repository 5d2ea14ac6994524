"""lsio.ml.RandomCrops: batches of random crops equal to numpy's slices of
zarr-python's data, reproducible with a seed, aligned across several
arrays, read ahead in a background thread while the caller works, errors
passed on, and the PyTorch IterableDataset wrapper (when torch is there).
"""
import threading
import time

import numpy as np
import pytest

from lsio_built import lsio  # skips this module when not built
import lsio.ml

zarr = pytest.importorskip("zarr")


@pytest.fixture
def data(work_dir):
    rng = np.random.default_rng(5)
    sat = rng.standard_normal((12, 50, 60)).astype("f4")          # (time, y, x)
    fc = rng.integers(0, 1000, size=(3, 12, 50, 60)).astype("<i2")  # (channel, time, y, x)
    zs = zarr.open_array(str(work_dir / "sat.zarr"), mode="w", shape=sat.shape,
                         chunks=(4, 16, 16), dtype="f4")
    zs[:] = sat
    zf = zarr.open_array(str(work_dir / "fc.zarr"), mode="w", shape=fc.shape,
                         chunks=(3, 6, 20, 20), dtype="<i2")
    zf[:] = fc
    return (lsio.open(str(work_dir / "sat.zarr")), zs[:], lsio.open(str(work_dir / "fc.zarr")),
            zf[:])


def test_crops_equal_numpy(data):
    a, x, _, _ = data
    rc = lsio.ml.RandomCrops(a, (4, 16, 8), batch_size=5, seed=3, return_origins=True)
    assert len(rc) == (3 * 3 * 7) // 5
    n = 0
    for batch, origins in rc:
        assert batch.shape == (5, 4, 16, 8) and batch.dtype == np.float32
        assert origins.shape == (5, 3)
        for crop, (t, y, xx) in zip(batch, origins):
            assert 0 <= t <= 8 and 0 <= y <= 34 and 0 <= xx <= 52
            np.testing.assert_array_equal(crop, x[t:t + 4, y:y + 16, xx:xx + 8])
        n += 1
    assert n == len(rc)


def test_reproducible_with_seed(data):
    a, _, _, _ = data

    def epochs(seed, n=2):
        rc = lsio.ml.RandomCrops(a, (2, 8, 8), 4, seed=seed, batches_per_epoch=3)
        return [[b.copy() for b in rc] for _ in range(n)]

    e1, e2 = epochs(11), epochs(11)
    for p, q in zip(e1, e2):
        for b, c in zip(p, q):
            np.testing.assert_array_equal(b, c)
    assert not all(np.array_equal(b, c) for b, c in zip(e1[0], e1[1]))  # epochs differ
    other = epochs(12, 1)[0]
    assert not all(np.array_equal(b, c) for b, c in zip(e1[0], other))
    rc = lsio.ml.RandomCrops(a, (2, 8, 8), 4, seed=11, batches_per_epoch=3)
    rc.set_epoch(1)
    for b, c in zip(rc, e1[1]):
        np.testing.assert_array_equal(b, c)


def test_aligned_arrays_same_origin(data):
    a, x, f, y = data
    rc = lsio.ml.RandomCrops([a, f], (3, 10, 12), batch_size=4, seed=1, batches_per_epoch=4,
                             return_origins=True)
    for (bs, bf), origins in rc:
        assert bs.shape == (4, 3, 10, 12) and bf.shape == (4, 3, 3, 10, 12)
        assert bf.dtype == np.int16
        for i, (t, yy, xx) in enumerate(origins):
            np.testing.assert_array_equal(bs[i], x[t:t + 3, yy:yy + 10, xx:xx + 12])
            np.testing.assert_array_equal(bf[i], y[:, t:t + 3, yy:yy + 10, xx:xx + 12])


class Recorder:
    """An array stand-in that records which thread reads and can fail."""

    def __init__(self, a, fail_at=None, delay=0.0):
        self.a, self.shape, self.dtype = a, a.shape, a.dtype
        self.threads, self.calls, self.fail_at, self.delay = set(), 0, fail_at, delay

    def read_many(self, sels, outs):
        self.threads.add(threading.get_ident())
        self.calls += 1
        if self.fail_at is not None and self.calls >= self.fail_at:
            raise lsio.Error("simulated read failure")
        time.sleep(self.delay)
        return self.a.read_many(sels, outs)


def test_prefetch_reads_ahead_in_background(data):
    a, _, _, _ = data
    rec = Recorder(a)
    rc = lsio.ml.RandomCrops(rec, (2, 8, 8), 4, seed=0, prefetch=2, batches_per_epoch=6)
    it = iter(rc)
    next(it)
    deadline = time.time() + 10
    while rec.calls < 4 and time.time() < deadline:  # 1 taken + 2 queued + 1 waiting
        time.sleep(0.01)
    assert rec.calls >= 3  # read ahead while the "training step" ran
    assert threading.get_ident() not in rec.threads
    assert sum(1 for _ in it) == 5
    # the next batch is ready while a 10 ms step runs: waiting for it is short
    slow = Recorder(a, delay=0.005)
    it = iter(lsio.ml.RandomCrops(slow, (2, 8, 8), 4, seed=0, prefetch=1, batches_per_epoch=8))
    next(it)
    waits = []
    for _ in range(7):
        time.sleep(0.010)  # the training step
        t = time.perf_counter()
        next(it)
        waits.append(time.perf_counter() - t)
    assert np.median(waits) < 0.005, waits


def test_prefetch_zero_and_close(data):
    a, x, _, _ = data
    rec = Recorder(a)
    rc = lsio.ml.RandomCrops(rec, (2, 8, 8), 2, seed=4, prefetch=0, batches_per_epoch=3,
                             return_origins=True)
    for b, o in rc:
        np.testing.assert_array_equal(b[0], x[o[0][0]:o[0][0] + 2, o[0][1]:o[0][1] + 8,
                                              o[0][2]:o[0][2] + 8])
    assert rec.threads == {threading.get_ident()}
    it = iter(lsio.ml.RandomCrops(a, (2, 8, 8), 2, seed=4, batches_per_epoch=100))
    next(it)
    it.close()
    assert not it._thread.is_alive()
    with pytest.raises(StopIteration):
        next(it)


def test_errors_reach_the_caller(data):
    a, _, _, _ = data
    it = iter(lsio.ml.RandomCrops(Recorder(a, fail_at=2), (2, 8, 8), 2, seed=0,
                                  batches_per_epoch=5))
    next(it)
    with pytest.raises(lsio.Error, match="simulated"):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


def test_bad_arguments(data):
    a, _, f, _ = data
    with pytest.raises(ValueError, match="fit"):
        lsio.ml.RandomCrops(a, (13, 8, 8), 2)
    with pytest.raises(ValueError):
        lsio.ml.RandomCrops(a, (1, 1, 1, 1, 1), 2)
    with pytest.raises(ValueError):
        lsio.ml.RandomCrops(a, (2, 0, 8), 2)
    with pytest.raises(ValueError):
        lsio.ml.RandomCrops(a, (2, 8, 8), 0)
    with pytest.raises(ValueError):
        lsio.ml.RandomCrops([], (2, 8, 8), 2)


def test_torch_dataset(data):
    import torch  # Debian's python3-torch, installed by scripts/install-deps
    a, x, _, _ = data
    ds = lsio.ml.RandomCropsDataset(a, (2, 8, 8), 3, seed=2, batches_per_epoch=4)
    batches = list(torch.utils.data.DataLoader(ds, batch_size=None))
    assert len(batches) == 4 and all(tuple(b.shape) == (3, 2, 8, 8) for b in batches)
    ref = list(lsio.ml.RandomCrops(a, (2, 8, 8), 3, seed=2, batches_per_epoch=4))
    for b, r in zip(batches, ref):
        np.testing.assert_array_equal(b.numpy(), r)


def test_torch_wrapper_logic_without_torch(data, monkeypatch):
    """The IterableDataset wrapper's own logic (worker shares, seeds,
    epochs) against a minimal stand-in for torch; the real thing is tested
    above when torch is installed."""
    import sys
    import types
    a, _, _, _ = data
    info = {"v": None}
    fake = types.ModuleType("torch")
    fake.utils = types.ModuleType("torch.utils")
    fake.utils.data = types.ModuleType("torch.utils.data")
    fake.utils.data.IterableDataset = type("IterableDataset", (), {"__init__": lambda s: None})
    fake.utils.data.get_worker_info = lambda: info["v"]
    fake.from_numpy = lambda v: ("tensor", v)
    monkeypatch.setitem(sys.modules, "torch", fake)
    monkeypatch.setitem(sys.modules, "torch.utils", fake.utils)
    monkeypatch.setitem(sys.modules, "torch.utils.data", fake.utils.data)
    monkeypatch.delattr(lsio.ml, "RandomCropsDataset", raising=False)
    ds = lsio.ml._torch_dataset_class()(a, (2, 8, 8), 3, seed=2, batches_per_epoch=5)
    got = list(ds)
    ref = list(lsio.ml.RandomCrops(a, (2, 8, 8), 3, seed=2, batches_per_epoch=5))
    assert len(got) == 5 and all(t == "tensor" for t, _ in got)
    for (_, b), r in zip(got, ref):
        np.testing.assert_array_equal(b, r)
    assert len(list(ds)) == 5  # the next epoch
    shares = []
    for wid in range(2):
        info["v"] = types.SimpleNamespace(id=wid, num_workers=2)
        shares.append(len(list(ds)))
    assert shares == [3, 2]


class GroupRecorder:
    """An array stand-in that takes io_group= and records it per batch
    (keyed by the batch's first selection) and in call order."""

    def __init__(self, a):
        self.a, self.shape, self.dtype = a, a.shape, a.dtype
        self.lock = threading.Lock()
        self.by_batch, self.order = {}, []

    def read_many(self, sels, outs, io_group=0):
        with self.lock:
            self.by_batch[repr(sels)] = io_group
            self.order.append(io_group)
        return self.a.read_many(sels, outs, io_group=io_group)


def test_prefetch_io_groups_in_batch_order(data):
    a, x, f, y = data
    # read_many takes io_group (a keyword, 0 to 2**32 - 1) and reads the same data
    sel = (slice(0, 4), slice(3, 20), slice(5, 9))
    np.testing.assert_array_equal(a.read_many([sel], io_group=7)[0], x[sel])
    np.testing.assert_array_equal(a.read_many([sel], io_group=2**32 - 1)[0], x[sel])
    np.testing.assert_array_equal(lsio.read_many(a, [sel], io_group=9)[0], x[sel])
    with pytest.raises(OverflowError):
        a.read_many([sel], io_group=2**32)
    with pytest.raises((OverflowError, TypeError)):
        a.read_many([sel], None, 3)  # keyword only
    kw = dict(batch_size=4, seed=9, batches_per_epoch=7, return_origins=True)
    ref = [(b.copy(), o) for b, o in lsio.ml.RandomCrops(a, (2, 8, 8), prefetch=0, **kw)]
    rec = GroupRecorder(a)
    got = list(lsio.ml.RandomCrops(rec, (2, 8, 8), prefetch=2, **kw))
    assert len(got) == len(ref) == 7
    for (b, o), (rb, ro) in zip(got, ref):
        np.testing.assert_array_equal(o, ro)
        np.testing.assert_array_equal(b, rb)
    # batch k is read in group g_k, increasing with k (whatever the threads'
    # order of calls), and every group is fresh
    groups = []
    for _, o in got:
        sels = [tuple(slice(int(v), int(v) + c) for v, c in zip(org, (2, 8, 8)))
                for org in o]
        groups.append(rec.by_batch[repr(sels)])
    assert all(g > 0 for g in groups)
    assert groups == sorted(groups) and len(set(groups)) == len(groups), groups
    assert sorted(rec.order) == groups
    # aligned arrays: one group per batch for every array (each has its own
    # IO handle), still the same data as without prefetch
    r1, r2 = GroupRecorder(a), GroupRecorder(f)
    kw2 = dict(batch_size=3, seed=2, batches_per_epoch=5)
    ref2 = [tuple(t.copy() for t in b) for b in lsio.ml.RandomCrops([a, f], (3, 10, 12),
                                                                     prefetch=0, **kw2)]
    got2 = list(lsio.ml.RandomCrops([r1, r2], (3, 10, 12), prefetch=3, **kw2))
    for b, rb in zip(got2, ref2):
        np.testing.assert_array_equal(b[0], rb[0])
        np.testing.assert_array_equal(b[1], rb[1])
    assert sorted(r1.order) == sorted(r2.order) and len(set(r1.order)) == 5
    assert min(r1.order) > max(groups)  # the counter only grows
