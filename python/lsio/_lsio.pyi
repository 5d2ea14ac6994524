"""Type stubs of lsio._lsio, the C core of the lsio package."""
from typing import Any, Iterator, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

Key = Union[int, slice, "ellipsis", Tuple[Union[int, slice, "ellipsis"], ...]]
Selection = Union[Key, str, None]

lib_version: str
MAX_DIMS: int

class Error(OSError):
    """An LSIO error with no closer Python exception; str() is the C
    layer's message. errno: the positive code; code: its name."""
    code: str

class Backend:
    """An open IO backend (uring, posix, http, s3) with raw object reads."""
    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def options(self) -> dict[str, Any]: ...
    def get(self, location: str) -> bytes:
        """Read a whole object (FileNotFoundError when missing)."""
    def get_many(self, locations: Sequence[str]) -> list[Optional[bytes]]:
        """Read many objects in one submission (None where missing)."""
    def size(self, location: str) -> int:
        """Size of an object in bytes."""
    def list(self, prefix: str) -> list[tuple[str, int]]:
        """(location, size) of every object under prefix."""
    def stats(self) -> dict[str, int]:
        """Counters of the backend."""

class Array:
    """A Zarr array read by LSIO."""
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype[Any]: ...
    @property
    def chunks(self) -> tuple[int, ...]: ...
    @property
    def shards(self) -> Optional[tuple[int, ...]]: ...
    @property
    def ndim(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    @property
    def nchunks(self) -> int: ...
    @property
    def attrs(self) -> dict[str, Any]: ...
    @property
    def codecs(self) -> Any: ...
    @property
    def fill_value(self) -> Any: ...
    @property
    def zarr_format(self) -> Literal[2, 3]: ...
    @property
    def order(self) -> Literal["C", "F"]: ...
    @property
    def dimension_names(self) -> Optional[tuple[Optional[str], ...]]: ...
    @property
    def url(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    @property
    def backend(self) -> str: ...
    @property
    def options(self) -> dict[str, Any]: ...
    def __getitem__(self, key: Key) -> npt.NDArray[Any]:
        """Read with numpy semantics (0-d array for an all-int key)."""
    def __len__(self) -> int: ...
    def __array__(self, dtype: Any = ..., copy: Any = ...) -> npt.NDArray[Any]: ...
    def read(self, selection: Selection = None,
             out: Optional[npt.NDArray[Any]] = None, *,
             mask_fill: bool = False) -> npt.NDArray[Any]:
        """Read a selection, into out when given (no extra copy); mask_fill:
        elements equal to the fill value read as NaN (float32/float64 arrays,
        else ValueError), in the same pass as decoding."""
    def read_many(self, selections: Sequence[Selection],
                  outs: Optional[Sequence[npt.NDArray[Any]]] = None, *,
                  io_group: int = 0) -> list[npt.NDArray[Any]]:
        """Read several selections in one submission; io_group: the IO group
        of its ranges (a read in a higher group queues behind lower ones on
        the array's IO handle; use non-decreasing ids)."""
    def stats(self) -> dict[str, int]:
        """Read counters: chunks_read, chunks_missing, bytes_read, bytes_decoded,
        chunks_direct (decoded straight into the output, no copy after)."""
    def close(self) -> None:
        """Release the array; later operations raise ValueError."""
    def __enter__(self) -> "Array": ...
    def __exit__(self, *exc: Any) -> None: ...

class Group:
    """A Zarr group read by LSIO."""
    @property
    def members(self) -> tuple[str, ...]: ...
    @property
    def kinds(self) -> tuple[Literal["array", "group"], ...]: ...
    @property
    def attrs(self) -> dict[str, Any]: ...
    @property
    def zarr_format(self) -> Literal[2, 3]: ...
    @property
    def url(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def __getitem__(self, name: str) -> Union[Array, "Group"]:
        """Open a member array or subgroup (KeyError when absent)."""
    def __contains__(self, name: object) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...
    def keys(self) -> list[str]: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Group": ...
    def __exit__(self, *exc: Any) -> None: ...

def open_array(url: str, **options: Any) -> Array:
    """Open the Zarr array at url."""
def open_group(url: str, **options: Any) -> Group:
    """Open the Zarr group at url."""
def backend(url: str, **options: Any) -> Backend:
    """Open the IO backend serving url."""
def empty(shape: Sequence[int], dtype: Any) -> np.ndarray:
    """An uninitialised C-order array, as numpy.empty, whose memory comes
    from the buffer cache when it is 4 MiB or more (see buffer_cache)."""
    ...
def buffer_cache(limit: Optional[int] = ...) -> dict[str, int]:
    """The memory of dropped large results kept for reuse: read or set its
    bound; returns limit, cached_bytes, cached, hits and misses."""
def strerror(code: int) -> str:
    """The name of an LSIO error code."""
