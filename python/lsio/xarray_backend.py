"""An xarray backend that reads Zarr groups through LSIO.

    import xarray as xr
    ds = xr.open_dataset("/data/era5.zarr", engine="lsio")     # once installed
    ds = xr.open_dataset(url, engine=lsio.xarray_backend.LsioBackendEntrypoint)
    ds.t2m.sel(time="2020-01-01").mean().values                 # reads only what it needs

The dataset opens lazily: each variable is an LsioBackendArray and only the
chunks a selection touches are read (through lsio.Array, GIL released).
Dimension names come from the `_ARRAY_DIMENSIONS` attribute (Zarr v2, as
xarray writes it) or from `dimension_names` (v3). The Zarr fill value
becomes the `_FillValue` attribute and CF decoding (masking, scale/offset,
times, coordinates) is xarray's own (conventions.decode_cf_variables via
StoreBackendEntrypoint), so results equal those of xarray's zarr engine.

The entry point is registered as "lsio" in the "xarray.backends" group by
setup.py; the class works as engine= without installing.
"""
from __future__ import annotations

import os

import numpy as np
from xarray.backends.common import AbstractDataStore, BackendArray, BackendEntrypoint
from xarray.backends.store import StoreBackendEntrypoint
from xarray.core import indexing
from xarray.core.utils import FrozenDict
from xarray.core.variable import Variable

import lsio

DIMENSION_KEY = "_ARRAY_DIMENSIONS"

__all__ = ["LsioBackendArray", "LsioDataStore", "LsioBackendEntrypoint"]


_MASK_BLOCK = 1 << 22  # elements masked per step: a small boolean temporary


def _mask_in_place(values: np.ndarray, fill) -> np.ndarray:
    """Replace the elements equal to fill with NaN, in place, block by
    block (what xarray's CF masking does with a full-size copy)."""
    flat = values.reshape(-1)  # a view: values is fresh and C-contiguous
    for start in range(0, flat.size, _MASK_BLOCK):
        block = flat[start:start + _MASK_BLOCK]
        np.putmask(block, block == fill, np.nan)
    return values


class LsioBackendArray(BackendArray):
    """A lazily indexed variable: basic indexing (ints, slices) is read by
    LSIO; outer and vectorized indexing are done by xarray on the smallest
    basic selection that covers them. Picklable (the lsio.Array reopens by
    URL), so dask workers can read it too.

    mask_fill: a float variable's fill value that this array turns into
    NaN itself as it reads (float32/64: by LSIO while decoding, float16:
    in place after; the store then hands xarray the
    _FillValue in the encoding, not the attributes, so xarray does not
    mask again with a copy of the whole result)."""

    def __init__(self, array: lsio.Array, mask_fill=None):
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)
        self.mask_fill = mask_fill

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        """Read an explicit indexer (basic, outer or vectorized)."""
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._raw_indexing_method)

    def _raw_indexing_method(self, key: tuple) -> np.ndarray:
        if self.mask_fill is None:
            return self.array[key]
        if self.dtype.itemsize in (4, 8):  # masked by LSIO as it decodes
            return self.array.read(key, mask_fill=True)
        values = np.asarray(self.array[key])  # float16: here, in place
        if not (values.flags.c_contiguous and values.flags.writeable):
            values = values.copy()
        return _mask_in_place(values, self.mask_fill)


def _dims_and_attrs(name: str, array: lsio.Array) -> tuple[tuple[str, ...], dict]:
    attrs = array.attrs
    dims = attrs.pop(DIMENSION_KEY, None)
    if dims is None and array.dimension_names is not None:
        dims = [d if d is not None else f"dim_{i}" for i, d in enumerate(array.dimension_names)]
    if dims is None:
        raise KeyError(f"Zarr array {name!r} ({array.url}) has neither the attribute "
                       f"`{DIMENSION_KEY}` nor v3 dimension_names, which xarray needs "
                       "to name its dimensions")
    if len(dims) != array.ndim:
        raise ValueError(f"Zarr array {name!r}: {len(dims)} dimension names for "
                         f"{array.ndim} dimensions")
    for k in [k for k in attrs if k.startswith("_NC")]:
        del attrs[k]
    return tuple(dims), attrs


class LsioDataStore(AbstractDataStore):
    """The variables and attributes of one Zarr group, read through LSIO."""

    def __init__(self, group: lsio.Group, mask: bool = False):
        self.group = group
        self.mask = mask  # CF masking of float variables done while reading
        self._arrays = {name: group[name] for name, kind in zip(group.members, group.kinds)
                        if kind == "array"}

    @classmethod
    def open(cls, url, group: str | None = None, mask: bool = False,
             **options) -> "LsioDataStore":
        """Open the group at url (or its subgroup `group`) with lsio options;
        mask: replace float variables' fill values with NaN while reading
        (xarray's mask_and_scale, done in place)."""
        g = lsio.open_group(url, **options)
        if group not in (None, "", "/"):
            sub = g[group.strip("/")]
            g.close()
            if not isinstance(sub, lsio.Group):
                raise ValueError(f"{url}: member {group!r} is an array, not a group")
            g = sub
        return cls(g, mask)

    def open_store_variable(self, name: str, array: lsio.Array) -> Variable:
        """A lazy xarray Variable over one array (fill value as _FillValue)."""
        dims, attrs = _dims_and_attrs(name, array)
        attrs.pop("filters", None)  # as xarray's zarr engine does
        encoding = {"chunks": tuple(array.chunks),
                    "preferred_chunks": dict(zip(dims, array.chunks)),
                    "source": array.url}
        fill = array.fill_value
        mask_fill = None
        if fill is not None:
            if (self.mask and np.dtype(array.dtype).kind == "f" and
                    not {"scale_factor", "add_offset", "missing_value"} & attrs.keys()):
                # masked here, in place (NaN needs no masking); xarray's
                # CF decoding would put _FillValue in the encoding too
                encoding["_FillValue"] = fill
                if not np.isnan(fill):
                    mask_fill = fill
            else:
                attrs["_FillValue"] = fill
        data = indexing.LazilyIndexedArray(LsioBackendArray(array, mask_fill))
        return Variable(dims, data, attrs, encoding)

    def get_variables(self):
        """Every array of the group as a lazy Variable."""
        return FrozenDict((k, self.open_store_variable(k, a)) for k, a in self._arrays.items())

    def get_attrs(self):
        """The group's attributes (xarray's hidden ones left out)."""
        return {k: v for k, v in self.group.attrs.items()
                if not k.startswith("_NC") and k != DIMENSION_KEY}

    def get_dimensions(self):
        """{dimension name: length}; conflicting lengths raise ValueError."""
        dims: dict[str, int] = {}
        for name, a in self._arrays.items():
            for d, n in zip(_dims_and_attrs(name, a)[0], a.shape):
                if dims.setdefault(d, n) != n:
                    raise ValueError(f"found conflicting lengths for dimension {d} "
                                     f"({n} != {dims[d]})")
        return dims

    def close(self):
        """Close the arrays and the group."""
        for a in self._arrays.values():
            a.close()
        self.group.close()


class LsioBackendEntrypoint(BackendEntrypoint):
    """xarray backend "lsio": open a Zarr group (v2 or v3) through LSIO.

    Besides xarray's decoding options it takes group= (a subgroup path) and
    LSIO's options threads= and inflight_bytes=."""

    description = "Open Zarr groups (v2 and v3) with LSIO, the fast C reader"
    url = "https://github.com/lsio/lsio"
    open_dataset_parameters = (
        "filename_or_obj", "mask_and_scale", "decode_times", "concat_characters",
        "decode_coords", "drop_variables", "use_cftime", "decode_timedelta", "group",
        "threads", "inflight_bytes",
    )

    def open_dataset(self, filename_or_obj, *, mask_and_scale=True, decode_times=True,
                     concat_characters=True, decode_coords=True, drop_variables=None,
                     use_cftime=None, decode_timedelta=None, group=None, threads=None,
                     inflight_bytes=0):
        """Open url as an xarray Dataset (lazy, CF-decoded by xarray)."""
        options = {"inflight_bytes": int(inflight_bytes or 0)}
        if threads is not None:
            options["threads"] = int(threads)
        store = LsioDataStore.open(os.fspath(filename_or_obj), group=group,
                                   mask=bool(mask_and_scale), **options)
        try:
            return StoreBackendEntrypoint().open_dataset(
                store, mask_and_scale=mask_and_scale, decode_times=decode_times,
                concat_characters=concat_characters, decode_coords=decode_coords,
                drop_variables=drop_variables, use_cftime=use_cftime,
                decode_timedelta=decode_timedelta)
        except BaseException:
            store.close()
            raise

    def guess_can_open(self, filename_or_obj) -> bool:
        """True for paths ending in .zarr and directories holding Zarr metadata."""
        try:
            path = os.fspath(filename_or_obj)
        except TypeError:
            return False
        if not isinstance(path, str):
            return False
        if path.rstrip("/").endswith(".zarr"):
            return True
        return os.path.isdir(path) and any(
            os.path.exists(os.path.join(path, f)) for f in (".zgroup", "zarr.json"))
