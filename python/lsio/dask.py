"""Dask arrays whose chunks load through LSIO.

    import lsio.dask
    x = lsio.dask.from_url("s3://bucket/t2m.zarr", chunks=(16, 1024, 1024))
    x.mean(axis=0).compute()                 # threads, processes or a cluster

Every block is one lsio read (GIL released, so the threaded scheduler runs
blocks in parallel). The graph holds a small picklable loader (the URL and
the open options), not an open array: each worker process opens the array
by URL once, on first use, so the same code runs on a dask.distributed
cluster of many machines as long as each of them can reach the URL (a
shared file system, HTTP or S3).
"""
from __future__ import annotations

import os
import threading

import numpy as np

import lsio

__all__ = ["from_url"]


class _Loader:
    """Picklable stand-in for an lsio.Array in a dask graph: it has shape,
    dtype and ndim, and __getitem__ opens the array in the current process
    (once per process) and reads the block."""

    def __init__(self, url: str, options: dict, shape, dtype, chunks):
        self.url = url
        self.options = dict(options)
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.chunks = tuple(chunks)
        self._lock = threading.Lock()
        self._pid = None
        self._array = None

    def __getstate__(self):
        return (self.url, self.options, self.shape, self.dtype.str, self.chunks)

    def __setstate__(self, state):
        self.__init__(*state)

    def __dask_tokenize__(self):
        return ("lsio", self.url, sorted(self.options.items()), self.shape, self.dtype.str)

    def array(self) -> lsio.Array:
        """The lsio.Array of this process (opened on first use)."""
        pid = os.getpid()
        with self._lock:
            if self._pid != pid or self._array is None:
                self._array = lsio.open(self.url, **self.options)
                self._pid = pid
            return self._array

    def __getitem__(self, key):
        return self.array()[key]


def from_url(url, chunks=None, *, name: str | None = None, **options):
    """A dask array over the Zarr array at url, read through LSIO.

    chunks: dask chunking (anything dask.array.from_array takes: a shape, a
    dict, "auto", -1...). Default: the Zarr chunk shape (the inner chunks of
    a sharded array), which makes every block one chunk read. options: as for
    lsio.open (threads, inflight_bytes, backend, ...), used by every process
    that opens the array. The result pickles by URL (no open handle)."""
    import dask.array as da
    from dask.base import tokenize

    url = os.fspath(url)
    with lsio.open(url, **options) as a:
        shape, dtype, zchunks = a.shape, a.dtype, a.chunks
    loader = _Loader(url, options, shape, dtype, zchunks)
    if chunks is None:
        chunks = zchunks if len(shape) else ()
    name = name or "lsio-" + tokenize(loader, chunks)
    return da.from_array(loader, chunks=chunks, name=name, asarray=False, fancy=False,
                         lock=False, meta=np.empty((0,) * len(shape), dtype=dtype))
