"""Shared pytest fixtures of the LSIO Python tests (general things only).

- ``repo``: the repository root.
- ``fixtures_dir``: the test stores of other implementations
  (``../shared/fixtures``, or ``$LSIO_FIXTURES``).
- ``lsio_bin``: the ``lsio`` command (``$LSIO_BIN``, else ``build/lsio``);
  tests that need it skip with a reason when it is not built.
- ``run_lsio``: run ``lsio`` with arguments, returning the CompletedProcess
  (text mode; never raises on a nonzero exit).
- ``lsio_zarr``: like ``run_lsio`` after checking once that ``lsio info``
  reads an empty v2 group (fails, never skips: the reader is part of the
  build).
- ``node_dir``: ``tests/node`` when ``node`` and its modules are there, else
  a skip.
- ``work_dir``: a fresh temporary directory (under ``$LSIO_TEST_TMP`` when
  set, as tests/run-all sets it).
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def fixtures_dir():
    d = Path(os.environ.get("LSIO_FIXTURES", REPO.parent / "shared" / "fixtures"))
    if not d.is_dir():
        pytest.skip(f"no fixtures directory at {d} (set LSIO_FIXTURES)")
    return d


@pytest.fixture(scope="session")
def lsio_bin():
    b = Path(os.environ.get("LSIO_BIN", REPO / "build" / "lsio"))
    if not (b.is_file() and os.access(b, os.X_OK)):
        pytest.skip(f"lsio is not built at {b} (run make, or set LSIO_BIN)")
    return b


@pytest.fixture(scope="session")
def run_lsio(lsio_bin):
    def run(*args, timeout=120, **kw):
        return subprocess.run([str(lsio_bin), *map(str, args)], capture_output=True,
                              text=kw.pop("text", True), timeout=timeout, **kw)
    return run


@pytest.fixture(scope="session")
def lsio_zarr(run_lsio, tmp_path_factory):
    """run_lsio, after checking once that this build can read Zarr."""
    d = tmp_path_factory.mktemp("probe")
    (d / ".zgroup").write_text('{"zarr_format": 2}')
    r = run_lsio("info", d)
    assert r.returncode == 0, f"lsio info on an empty v2 group failed: {r.stderr}"
    return run_lsio


@pytest.fixture(scope="session")
def node_dir():
    d = REPO / "tests" / "node"
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/install-deps installs it)")
    if not (d / "node_modules" / "zarrita").is_dir():
        pytest.skip("zarrita.js is not installed in tests/node (npm ci there)")
    return d


@pytest.fixture
def work_dir():
    base = os.environ.get("LSIO_TEST_TMP")
    d = Path(tempfile.mkdtemp(prefix="lsio-py-", dir=base if base and os.path.isdir(base) else None))
    yield d
    shutil.rmtree(d, ignore_errors=True)
