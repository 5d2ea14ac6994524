"""lsio.dask.from_url: dask arrays whose blocks load through LSIO, equal to
numpy on the threaded scheduler and on a dask.distributed LocalCluster of
two worker processes (the loader pickles by URL and reopens there).
"""
import os
import pickle

import numpy as np
import pytest

from lsio_built import lsio  # skips this module when not built

da = pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")
import lsio.dask  # noqa: E402


@pytest.fixture
def arr(work_dir):
    rng = np.random.default_rng(4)
    x = np.cumsum(rng.standard_normal((20, 33, 41)), axis=1).astype("f4")
    z = zarr.open_array(str(work_dir / "d.zarr"), mode="w", shape=x.shape, chunks=(6, 16, 16),
                        dtype="f4")
    z[:] = x
    return str(work_dir / "d.zarr"), x


def test_threaded_equals_numpy(arr):
    path, x = arr
    d = lsio.dask.from_url(path)
    assert d.shape == x.shape and d.dtype == x.dtype
    assert d.chunksize == (6, 16, 16)  # the Zarr chunks by default
    np.testing.assert_array_equal(d.compute(), x)
    np.testing.assert_allclose(d.mean(axis=0, dtype="f8").compute(), x.mean(axis=0, dtype="f8"))
    np.testing.assert_array_equal(d[3:17:2, ::-1, 5].compute(), x[3:17:2, ::-1, 5])
    e = lsio.dask.from_url(path, chunks=(7, 11, -1), threads=1)
    assert e.chunks[0] == (7, 7, 6) and e.chunks[2] == (41,)
    np.testing.assert_array_equal(e.compute(), x)
    assert e.name != d.name and lsio.dask.from_url(path).name == d.name


def test_graph_pickles_by_url(arr):
    path, x = arr
    d = lsio.dask.from_url(path)
    d2 = pickle.loads(pickle.dumps(d))
    np.testing.assert_array_equal(d2.compute(scheduler="sync"), x)
    with pytest.raises(FileNotFoundError):
        lsio.dask.from_url(path + ".missing")


def test_distributed_two_processes(arr, monkeypatch):
    distributed = pytest.importorskip("distributed")
    path, x = arr
    # worker processes are spawned: they must find the build-tree package
    here = os.path.dirname(os.path.dirname(os.path.abspath(lsio.__file__)))
    monkeypatch.setenv("PYTHONPATH", here + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=40)
    except Exception as e:  # no processes or sockets here
        pytest.skip(f"dask.distributed LocalCluster could not start: {e!r}")
    try:
        with distributed.Client(cluster) as client:
            d = lsio.dask.from_url(path)
            total = client.compute(d.sum(axis=(1, 2), dtype="f8")).result()
            np.testing.assert_allclose(total, x.sum(axis=(1, 2), dtype="f8"))
            np.testing.assert_array_equal(client.compute(d[::3, 10:20]).result(),
                                          x[::3, 10:20])
            pids = client.run(os.getpid)
            assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    finally:
        cluster.close()
