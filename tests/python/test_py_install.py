"""`pip install --no-build-isolation ./python` into a venv made with
--system-site-packages (Debian's numpy, xarray and dask stay visible), as
python/README.md tells users: the installed package imports from the
venv (not the build tree), registers the xarray engine "lsio" through its
entry point, and reads what xarray's own zarr engine reads. No network:
--no-index, the extension links the build's liblsio.a."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TOP = Path(__file__).resolve().parents[2]

CHECK = r"""
import sys, numpy as np, xarray as xr, lsio
assert "/site-packages/lsio/" in lsio.__file__, lsio.__file__
assert "lsio" in xr.backends.list_engines(), xr.backends.list_engines()
a = xr.open_dataset(sys.argv[1], engine="lsio").load()
b = xr.open_dataset(sys.argv[1], engine="zarr").load()
xr.testing.assert_identical(a, b)
print("ok", lsio.open(sys.argv[1] + "/t")[1, 2, 3])
"""


def test_pip_install_into_venv(tmp_path):
    import xarray as xr
    if not (TOP / "build" / "liblsio.a").exists():
        pytest.fail("build/liblsio.a is missing: run make first")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = dict(os.environ, LSIO_BUILD=str(TOP / "build"), PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)  # the installed package, not the build tree
    r = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-build-isolation",
                        str(TOP / "python")], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    store = tmp_path / "ds.zarr"
    t = np.arange(3 * 4 * 5, dtype="<f4").reshape(3, 4, 5) - 7
    xr.Dataset({"t": (("time", "y", "x"), t, {"units": "K"})},
               coords={"time": [10, 20, 30]}, attrs={"title": "install"}).to_zarr(str(store))
    r = subprocess.run([str(venv / "bin" / "python"), "-c", CHECK, str(store)], env=env,
                       cwd=str(tmp_path), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ["ok", str(t[1, 2, 3])]
