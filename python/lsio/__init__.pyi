"""Type stubs of the lsio package."""
import os
from typing import Any, Optional, Sequence, Union

import numpy.typing as npt

from ._lsio import Array as Array
from ._lsio import Error as Error
from ._lsio import Group as Group
from ._lsio import Selection

__version__: str
__all__: list[str]

def open(url: Union[str, os.PathLike[str]], *, threads: Optional[int] = ...,
         inflight_bytes: int = ..., backend: str = ..., io_workers: int = ...,
         direct: Optional[bool] = ..., pool_bytes: int = ..., region: Optional[str] = ...,
         endpoint: Optional[str] = ..., profile: Optional[str] = ...,
         anonymous: bool = ...) -> Array:
    """Open the Zarr array (v2 or v3) at url."""
def open_group(url: Union[str, os.PathLike[str]], *, threads: Optional[int] = ...,
               inflight_bytes: int = ..., backend: str = ..., io_workers: int = ...,
               direct: Optional[bool] = ..., pool_bytes: int = ..., region: Optional[str] = ...,
               endpoint: Optional[str] = ..., profile: Optional[str] = ...,
               anonymous: bool = ...) -> Group:
    """Open the Zarr group (v2 or v3) at url."""
def read_many(array: Array, selections: Sequence[Selection],
              outs: Optional[Sequence[npt.NDArray[Any]]] = ..., *,
              io_group: int = ...) -> list[npt.NDArray[Any]]:
    """Read many selections of one array in one submission (io_group: see
    Array.read_many)."""
def buffer_cache(limit: Optional[int] = ...) -> dict[str, int]:
    """Read or set the bound of the memory kept from dropped large results for
    reuse; returns limit, cached_bytes, cached, hits and misses."""
def _reopen(url: str, options: dict[str, Any]) -> Array: ...
def _reopen_group(url: str, options: dict[str, Any]) -> Group: ...
