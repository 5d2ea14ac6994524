"""LSIO (Light Speed IO): read chunked arrays (Zarr v2 and v3) into numpy,
as fast as the CPU, the disks and the network allow.

    import lsio
    a = lsio.open("/data/t2m.zarr")           # or file://, http(s)://, s3://
    x = a[0, 100:200, ::2]                     # numpy semantics, a numpy array
    a.read((slice(0, 4), ...), out=buf)        # into your own array, no copy
    crops = lsio.read_many(a, [(slice(0, 4), slice(y, y + 64), slice(x, x + 64))
                               for y, x in origins])   # one submission
    g = lsio.open_group("/data/era5.zarr"); g.members; g["t2m"]

Reading and decoding run in C with the GIL released: threads read in
parallel. Errors raise FileNotFoundError (nothing at a URL), KeyError (a
missing group member), ValueError (a bad selection, a closed array) or
lsio.Error (everything else, with the C layer's message).

Submodules: lsio.ml (random-crop training batches, a PyTorch dataset),
lsio.xarray_backend (xr.open_dataset(url, engine="lsio")), lsio.dask
(dask arrays whose chunks load through LSIO), lsio.zarr (a zarr-python
store).
"""
from . import _lsio
from ._lsio import Array, Error, Group

__version__ = "0.1.0"
__all__ = ["Array", "Error", "Group", "buffer_cache", "open", "open_group", "read_many",
           "__version__"]

_OPTIONS_DOC = """
    Options (keyword only):
      threads         decode threads: a private pool of this many (default:
                      the shared pool, one thread per core or $LSIO_THREADS)
      inflight_bytes  bytes read but not yet decoded (default 256 MiB)
      backend         "auto" (default), "uring", "posix", "http" or "s3"
      io_workers      IO threads (default: one per core)
      direct          O_DIRECT: None (auto), True, False
      pool_bytes      bound of the IO buffer pool (default 1 GiB)
      region, endpoint, profile, anonymous   S3 settings
"""


def open(url, **options):  # noqa: A001 (the name users expect)
    """Open the Zarr array (v2 or v3) at url: a path, file://, http(s):// or
    s3:// location (the array's directory or prefix, not its metadata file).

    Returns an lsio.Array. Raises FileNotFoundError when no array is there,
    lsio.Error for bad metadata or an unsupported codec or data type.
    """
    return _lsio.open_array(_fspath(url), **options)


def open_group(url, **options):
    """Open the Zarr group (v2 or v3) at url; members are read from
    consolidated metadata when the group has it, else by listing the store.
    Options as for lsio.open. Returns an lsio.Group."""
    return _lsio.open_group(_fspath(url), **options)


def read_many(array, selections, outs=None, *, io_group=0):
    """Read many selections of one array in one submission: every chunk they
    need is fetched and decoded once, even where selections overlap.

    selections: a sequence of keys as for array[...] (or text selections);
    outs: optional output arrays, one per selection (see Array.read);
    io_group: the IO group of the read's byte ranges (see Array.read_many).
    Returns a list of numpy arrays."""
    if io_group:
        return array.read_many(selections, outs, io_group=io_group)
    return array.read_many(selections, outs)


def buffer_cache(limit=None):
    """The memory of large results (4 MiB and more) that the program has
    dropped is kept for the next results of about its size: no page faults
    and no zeroing when an epoch, a dask task or a loop reads arrays of the
    same sizes again. It is kept up to `limit` bytes (the oldest let go
    first), after madvise(MADV_FREE), so the kernel can take it back under
    memory pressure.

    limit: bytes (0 turns the cache off and lets go of what it holds);
    None leaves it. The default is $LSIO_BUFFER_CACHE (bytes, with K, M or
    G), else an eighth of the physical memory, at most 4 GiB.
    Returns a dict: limit, cached_bytes, cached (mappings kept), hits and
    misses (large results that found memory to reuse, or not)."""
    return _lsio.buffer_cache(limit)


open.__doc__ += _OPTIONS_DOC


_SUBMODULES = ("ml", "dask", "zarr", "zarr_store", "xarray_backend")


def __getattr__(name):
    """Submodules load on first use: lsio.zarr.Store works after `import lsio`."""
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'lsio' has no attribute {name!r}")


def _fspath(url):
    import os
    return os.fspath(url)


def _reopen(url, options):
    """Unpickle an Array: open it again by URL with the same options."""
    return _lsio.open_array(url, **options)


def _reopen_group(url, options):
    """Unpickle a Group: open it again by URL with the same options."""
    return _lsio.open_group(url, **options)
