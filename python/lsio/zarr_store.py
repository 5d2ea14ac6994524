"""lsio.zarr.Store: a read-only zarr-python 2.13 store over LSIO's IO layer.

    import zarr, lsio.zarr
    z = zarr.open_array(lsio.zarr.Store("s3://bucket/t2m.zarr"), mode="r")
    z[0:4]          # zarr-python decodes; LSIO fetches all chunks in one go

zarr-python calls getitems() with every chunk key a selection needs: they
are all submitted to LSIO at once (io_uring for local files, libcurl's
multi interface for HTTP and S3) and come back together, instead of one
blocking read per chunk. Keys are listed with the backend's listing (a
directory walk, S3 ListObjectsV2).

Use lsio.open() instead when you can: it also decodes in C, in parallel.
"""
from __future__ import annotations

import errno
import os
from typing import Iterator

from zarr.errors import ReadOnlyError
from zarr.storage import Store as _ZarrStore

from . import _lsio

_MISSING = (errno.ENOENT, errno.ENOTDIR, errno.EISDIR)


def _is_missing(e: OSError) -> bool:
    return isinstance(e, FileNotFoundError) or getattr(e, "errno", None) in _MISSING

__all__ = ["Store"]


class Store(_ZarrStore):
    """A read-only zarr-python (2.13) store of the Zarr hierarchy at url (a
    path, file://, http(s):// or s3:// location). options: as for
    lsio.open (backend, io_workers, region, endpoint, profile, anonymous...).
    Missing keys raise KeyError; writes raise zarr.errors.ReadOnlyError."""

    _readable = True
    _writeable = False
    _erasable = False
    _listable = True

    def __init__(self, url, **options):
        self.url = os.fspath(url).rstrip("/")
        self._options = options
        self._pid = os.getpid()
        self._io = _lsio.backend(self.url, **options)

    @property
    def _backend(self):
        """The IO backend of this process (reopened in a forked child, whose
        copy of the parent's has no threads)."""
        if self._pid != os.getpid():
            self._io = _lsio.backend(self.url, **self._options)
            self._pid = os.getpid()
        return self._io

    def _loc(self, key: str) -> str:
        return f"{self.url}/{key}"

    def __getitem__(self, key: str) -> bytes:
        try:
            return self._backend.get(self._loc(key))
        except OSError as e:
            if _is_missing(e):
                raise KeyError(key) from e
            raise

    def getitems(self, keys, *, contexts=None, on_error="omit") -> dict:
        """Fetch many keys in one LSIO submission. Returns {key: bytes} for
        the keys that exist (missing ones are left out, as zarr expects)."""
        keys = list(keys)
        values = self._backend.get_many([self._loc(k) for k in keys])
        return {k: v for k, v in zip(keys, values) if v is not None}

    def __contains__(self, key) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self._backend.size(self._loc(key))
            return True
        except OSError as e:
            if _is_missing(e):
                return False
            raise

    def _list(self, path: str = "") -> list:
        prefix = self._loc(path.strip("/") + "/" if path.strip("/") else "")
        n = len(self.url) + 1
        return [loc[n:] for loc, _ in self._backend.list(prefix) if loc.startswith(self.url + "/")]

    def keys(self):
        """Every key of the store (a listing)."""
        return self._list()

    def __iter__(self) -> Iterator[str]:
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())

    def listdir(self, path: str = "") -> list:
        """The names directly under path, sorted."""
        path = (path or "").strip("/")
        cut = len(path) + 1 if path else 0
        return sorted({k[cut:].split("/")[0] for k in self._list(path)})

    def getsize(self, path: str = "") -> int:
        """Bytes stored under path."""
        path = (path or "").strip("/")
        return sum(size for _, size in self._backend.list(self._loc(path + "/" if path else "")))

    def __setitem__(self, key, value):
        raise ReadOnlyError()

    def __delitem__(self, key):
        raise ReadOnlyError()

    def rmdir(self, path: str = "") -> None:
        """Refused: the store is read-only."""
        raise ReadOnlyError()

    def rename(self, src_path: str, dst_path: str) -> None:
        """Refused: the store is read-only."""
        raise ReadOnlyError()

    def __eq__(self, other):
        return isinstance(other, Store) and other.url == self.url

    def __hash__(self):
        return hash(("lsio.zarr.Store", self.url))

    def __repr__(self):
        return f"lsio.zarr.Store({self.url!r})"

    def __getstate__(self):
        return self.url, self._options

    def __setstate__(self, state):
        self.__init__(state[0], **state[1])
