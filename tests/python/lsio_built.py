"""The lsio package of the build tree for the Python API tests:

    from lsio_built import lsio

skips the importing test module when the extension is not built (python/
not on the path, or lsio._lsio missing: run `make python`); any other
import error fails it."""
import pytest

try:
    import lsio
except ModuleNotFoundError as e:  # only "not built" skips; other errors fail
    if e.name not in ("lsio", "lsio._lsio"):
        raise
    pytest.skip(f"the lsio extension is not built ({e}); run `make python`",
                allow_module_level=True)



def read_with_and_without(path, sel, env_off):
    """Read sel of the array at path twice, the second time with the
    environment variable env_off set to 1 (the way a fast path is turned
    off for comparisons): [(result, chunks_direct), (result, chunks_direct)]."""
    import os
    out = []
    for off in (False, True):
        if off:
            os.environ[env_off] = "1"
        try:
            a = lsio.open(str(path))
            x = a[sel]
            out.append((x, a.stats()["chunks_direct"]))
        finally:
            os.environ.pop(env_off, None)
    return out


__all__ = ["lsio", "read_with_and_without"]
