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

__all__ = ["lsio"]
