"""lsio.zarr: zarr-python integration (see lsio.zarr_store for the details).

    import zarr, lsio.zarr
    z = zarr.open_array(lsio.zarr.Store(url), mode="r")
"""
from .zarr_store import Store

__all__ = ["Store"]
