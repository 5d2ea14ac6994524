"""Training batches of random crops, prefetched while the model trains.

    import lsio, lsio.ml
    sat = lsio.open("/data/satellite.zarr")          # (time, y, x)
    fc = lsio.open("/data/forecast.zarr")            # (channel, time, y, x)
    for x, y in lsio.ml.RandomCrops([sat, fc], (4, 64, 64), batch_size=32, seed=1):
        train_step(x, y)    # x: (32, 4, 64, 64), y: (32, channels, 4, 64, 64)

Each batch is read with one Array.read_many per array (every chunk the
crops touch fetched and decoded once) straight into the batch's memory, in
background threads that work on the next batch(es) while the caller
trains on the current one: LSIO releases the GIL, so IO and decoding
overlap the training step. Two batches are read at once, each in its own
IO group (read_many's io_group; ids drawn from one process-wide counter,
so they increase per IO handle): batch k+1's byte ranges queue in the IO
layer behind batch k's instead of competing with them, and start as soon
as batch k's IO is done, while batch k still decodes.

Crops of several arrays are taken at the same origin: crop_shape applies
to the trailing dimensions of every array (which must line up), leading
dimensions are taken whole. Origins are uniform over the positions where a
crop fits every array, drawn from numpy's default_rng seeded with
(seed, epoch): the same seed gives the same batches, epoch after epoch.

RandomCropsDataset wraps this as a PyTorch IterableDataset (when torch is
installed): use it with DataLoader(ds, batch_size=None).
"""
from __future__ import annotations

import inspect
import itertools
import queue
import threading
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, Sequence

import numpy as np

from . import _lsio

__all__ = ["RandomCrops"]  # and RandomCropsDataset when torch imports

_DONE = object()
_READERS = 2  # batches read at once by a prefetcher (k in flight, k+1 queued behind)

_group_lock = threading.Lock()
_group_ids = itertools.count(1)


def next_io_group() -> int:
    """A fresh IO group id: larger than every one handed out before in this
    process (1, 2, ...; after 2**32 - 1 it starts again at 1), so ids are
    monotonic on every IO handle, shared or not."""
    with _group_lock:
        return next(_group_ids) % 0xFFFFFFFF or next(_group_ids) % 0xFFFFFFFF


def _takes_io_group(a) -> bool:
    """Whether a.read_many accepts io_group= (lsio.Array, or a stand-in
    that declares it or **kwargs)."""
    from ._lsio import Array
    if isinstance(a, Array):
        return True
    try:
        params = inspect.signature(a.read_many).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "io_group" or p.kind is p.VAR_KEYWORD for p in params)


class RandomCrops:
    """An iterable of batches of random crops of one array or of several
    aligned arrays.

    arrays: an lsio.Array (batches are numpy arrays) or a sequence of them
        (batches are tuples, one array each, cropped at the same origin).
        Anything with shape, dtype and read_many(selections, outs) works
        (io_group= is passed when its read_many takes it).
    crop_shape: the crop's extent over the trailing len(crop_shape)
        dimensions; leading dimensions are taken whole.
    batch_size: crops per batch; a batch has shape
        (batch_size, *leading dims, *crop_shape).
    seed: makes the crops reproducible (None: fresh entropy every epoch).
    prefetch: batches read ahead in a background thread (0: read in the
        caller's thread when asked).
    batches_per_epoch: batches one iteration yields (default: as many as
        it takes to draw about as many crops as fit side by side, at least 1).
    return_origins: yield (batch, origins) with origins an int64 array
        (batch_size, len(crop_shape)) of the crops' first indices.

    Each iter() is a new epoch (epoch 0, 1, ...; set_epoch() moves it).
    """

    def __init__(self, arrays, crop_shape: Sequence[int], batch_size: int, *,
                 seed: int | None = None, prefetch: int = 1,
                 batches_per_epoch: int | None = None, return_origins: bool = False):
        self.single = hasattr(arrays, "read_many")
        self.arrays = (arrays,) if self.single else tuple(arrays)
        if not self.arrays:
            raise ValueError("RandomCrops: no arrays")
        self.crop_shape = tuple(int(c) for c in crop_shape)
        k = len(self.crop_shape)
        if k == 0 or any(c < 1 for c in self.crop_shape):
            raise ValueError(f"RandomCrops: crop_shape {crop_shape!r} must be positive sizes")
        if batch_size < 1:
            raise ValueError("RandomCrops: batch_size must be >= 1")
        if prefetch < 0:
            raise ValueError("RandomCrops: prefetch must be >= 0")
        span = None
        for a in self.arrays:
            if len(a.shape) < k:
                raise ValueError(f"RandomCrops: crop_shape {self.crop_shape} has more "
                                 f"dimensions than an array of shape {tuple(a.shape)}")
            tail = tuple(a.shape[len(a.shape) - k:])
            span = tail if span is None else tuple(min(x, y) for x, y in zip(span, tail))
        self.span = span
        self.high = tuple(s - c + 1 for s, c in zip(span, self.crop_shape))
        if any(h < 1 for h in self.high):
            raise ValueError(f"RandomCrops: crop {self.crop_shape} does not fit in {span}")
        self.batch_size = int(batch_size)
        self.seed = seed
        self.prefetch = int(prefetch)
        if batches_per_epoch is None:
            fit = int(np.prod([s // c for s, c in zip(span, self.crop_shape)]))
            batches_per_epoch = max(1, fit // self.batch_size)
        self.batches_per_epoch = int(batches_per_epoch)
        self.return_origins = return_origins
        self.epoch = 0
        self._grouped = tuple(_takes_io_group(a) for a in self.arrays)

    def __len__(self) -> int:
        return self.batches_per_epoch

    def set_epoch(self, epoch: int) -> None:
        """The epoch the next iter() runs (its crops depend on it)."""
        self.epoch = int(epoch)

    def origins(self, epoch: int) -> np.ndarray:
        """The crop origins of an epoch: int64 (batches, batch_size, k)."""
        rng = np.random.default_rng(None if self.seed is None else [int(self.seed), int(epoch)])
        shape = (self.batches_per_epoch, self.batch_size, len(self.crop_shape))
        return rng.integers(0, self.high, size=shape, dtype=np.int64)

    def read_batch(self, origins: np.ndarray, io_group: int | None = None):
        """Read the crops at origins ((batch, k) first indices) of every
        array: one read_many per array, straight into the batch, in IO
        group io_group (None: a fresh one from next_io_group())."""
        k = len(self.crop_shape)
        if io_group is None:
            io_group = next_io_group()
        out = []
        for a, grouped in zip(self.arrays, self._grouped):
            lead = tuple(a.shape[:len(a.shape) - k])
            # recycled memory for large batches (lsio.buffer_cache)
            batch = _lsio.empty((len(origins),) + lead + self.crop_shape, a.dtype)
            whole = (slice(None),) * len(lead)
            sels = [whole + tuple(slice(int(o), int(o) + c) for o, c in zip(org, self.crop_shape))
                    for org in origins]
            outs = [batch[i] for i in range(len(origins))]
            if grouped:
                a.read_many(sels, outs, io_group=io_group)
            else:
                a.read_many(sels, outs)
            out.append(batch)
        return out[0] if self.single else tuple(out)

    def __iter__(self) -> Iterator:
        epoch = self.epoch
        self.epoch += 1
        origins = self.origins(epoch)
        if self.prefetch == 0:
            return (self._item(self.read_batch(o), o) for o in origins)
        return _Prefetcher(self, origins)

    def _item(self, batch, origins):
        return (batch, origins) if self.return_origins else batch


class _Prefetcher:
    """One epoch: a thread hands batches read ahead (by _READERS reader
    threads, in increasing IO groups) to a bounded queue, in order."""

    def __init__(self, crops: RandomCrops, origins: np.ndarray):
        self._crops = crops
        self._q: queue.Queue = queue.Queue(maxsize=crops.prefetch)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=_produce, name="lsio-crops", daemon=True,
                                        args=(crops, origins, self._q, self._stop))
        self._thread.start()
        self._done = False
        weakref.finalize(self, self._stop.set)

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        item = self._q.get()
        if item is _DONE:
            self._done = True
            self._thread.join()
            raise StopIteration
        if isinstance(item, BaseException):
            self._done = True
            self.close()
            raise item
        return self._crops._item(*item)

    def close(self) -> None:
        """Stop reading ahead (the rest of the epoch is dropped)."""
        self._stop.set()
        self._done = True
        while self._thread.is_alive():
            try:
                self._q.get_nowait()
            except queue.Empty:
                self._thread.join(0.01)


def _produce(crops: RandomCrops, origins, q: queue.Queue, stop: threading.Event) -> None:
    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    # Batch k+1 is submitted (in a higher IO group) before batch k is
    # waited for; the queue bounds how far ahead the reads run.
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=_READERS, thread_name_prefix="lsio-crops-read") as ex:
        try:
            for o in origins:
                if stop.is_set():
                    return
                pending.append((ex.submit(crops.read_batch, o, next_io_group()), o))
                if len(pending) >= _READERS and not put(_result(pending)):
                    return
            while pending:
                if stop.is_set() or not put(_result(pending)):
                    return
        except BaseException as e:  # handed to the consumer
            put(e)
            return
        finally:
            for f, _ in pending:
                f.cancel()
    put(_DONE)


def _result(pending: deque):
    f, o = pending.popleft()
    return f.result(), o


def _torch_dataset_class():
    import torch
    from torch.utils.data import IterableDataset, get_worker_info

    class RandomCropsDataset(IterableDataset):
        """RandomCrops as a PyTorch IterableDataset yielding whole batches
        (use DataLoader(ds, batch_size=None)). Each DataLoader worker reads
        its own share of the epoch's batches with its own seed (seed +
        worker id); arrays are lsio.Arrays, which reopen by URL in worker
        processes. Arguments as for RandomCrops."""

        def __init__(self, arrays, crop_shape, batch_size, *, seed=None, prefetch=1,
                     batches_per_epoch=None):
            super().__init__()
            self.args = (arrays, crop_shape, batch_size)
            self.kw = dict(seed=seed, prefetch=prefetch, batches_per_epoch=batches_per_epoch)
            self.epoch = 0

        def set_epoch(self, epoch: int) -> None:
            self.epoch = int(epoch)

        def __len__(self):
            return RandomCrops(*self.args, **self.kw).batches_per_epoch

        def __iter__(self):
            kw = dict(self.kw)
            info = get_worker_info()
            rc = RandomCrops(*self.args, **kw)
            if info is not None:
                if kw["seed"] is not None:
                    kw["seed"] = int(kw["seed"]) + info.id
                per = rc.batches_per_epoch // info.num_workers
                per += info.id < rc.batches_per_epoch % info.num_workers
                kw["batches_per_epoch"] = max(per, 0)
                rc = RandomCrops(*self.args, **kw)
            rc.set_epoch(self.epoch)
            self.epoch += 1
            if rc.batches_per_epoch == 0:
                return
            for b in rc:
                yield tuple(map(torch.from_numpy, b)) if isinstance(b, tuple) \
                    else torch.from_numpy(b)

    return RandomCropsDataset


def __getattr__(name):
    """RandomCropsDataset is made on first use, when torch imports."""
    if name == "RandomCropsDataset":
        try:
            cls = _torch_dataset_class()
        except ImportError as e:
            raise AttributeError(f"lsio.ml.RandomCropsDataset needs PyTorch, which does not "
                                 f"import here: {e}") from e
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'lsio.ml' has no attribute {name!r}")
