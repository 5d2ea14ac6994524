"""Arrays the Python tests write with zarr-python 2.13 and the values they
fill them with (shared by the test modules that compare LSIO's reads)."""
import numpy as np


def write_zarr(path, data, chunks, **kw):
    """A zarr-python array at path holding data (chunks and the other
    zarr.open_array options as given); returns it."""
    import zarr
    z = zarr.open_array(str(path), mode="w", shape=data.shape, chunks=chunks,
                        dtype=data.dtype, **kw)
    z[...] = data
    return z


def walk_values(shape, dtype, seed=0):
    """Smooth random-walk data of any numpy dtype (bytes: random letters)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "S":
        return rng.integers(65, 90, tuple(shape) + (dt.itemsize,), dtype=np.uint8).view(dt)[..., 0]
    walk = np.cumsum(rng.integers(-1, 2, shape), axis=-1) + 0.25
    if dt.kind == "c":
        return (walk + 1j * walk[::-1]).astype(dt)
    if dt.kind in "iu":
        return (walk * 40).astype(dt)
    if dt.kind == "b":
        return walk > 0
    return walk.astype(dt)
