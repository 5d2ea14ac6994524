"""lsio.zarr.Store: zarr-python 2.13 reads through LSIO's IO layer give
the same values as zarr-python on its own DirectoryStore (both chunk key
separators, missing chunks, groups, consolidated metadata), fetch all the
chunks of a read with one getitems call, and refuse writes.
"""
import pickle

import numpy as np
import pytest

from lsio_built import lsio  # skips this module when not built

zarr = pytest.importorskip("zarr")
import lsio.zarr  # noqa: E402
from zarr.errors import ReadOnlyError  # noqa: E402


@pytest.mark.parametrize("sep", [".", "/"])
def test_values_equal_directory_store(work_dir, sep):
    x = np.arange(30 * 40, dtype="<i4").reshape(30, 40)
    path = str(work_dir / "a.zarr")
    z = zarr.open_array(path, mode="w", shape=x.shape, chunks=(7, 9), dtype="<i4",
                        dimension_separator=sep, fill_value=-5)
    z[0:20] = x[0:20]  # rows 20.. stay missing: the fill value
    s = lsio.zarr.Store(path)
    got = zarr.open_array(s, mode="r")
    np.testing.assert_array_equal(got[:], z[:])
    np.testing.assert_array_equal(got[3:27:4, 1::3], z[3:27:4, 1::3])
    assert ".zarray" in s and "nope" not in s and "0" not in s
    keys = sorted(s.keys())
    assert keys == sorted(zarr.DirectoryStore(path, dimension_separator=sep).keys())
    assert len(s) == len(keys) and sorted(s) == keys


def test_getitems_one_submission(work_dir):
    path = str(work_dir / "b.zarr")
    z = zarr.open_array(path, mode="w", shape=(40, 40), chunks=(10, 10), dtype="f8")
    z[:] = np.random.default_rng(0).standard_normal((40, 40))
    calls = []

    class Counting(lsio.zarr.Store):
        def getitems(self, keys, **kw):
            keys = list(keys)
            calls.append(len(keys))
            return super().getitems(keys, **kw)

    s = Counting(path)
    got = zarr.open_array(s, mode="r")
    np.testing.assert_array_equal(got[:], z[:])
    assert calls == [16]  # every chunk in one call
    before = s._backend.stats()["ranges"]
    r = s.getitems(["0.0", "3.3", "9.9", ".zarray"])
    assert set(r) == {"0.0", "3.3", ".zarray"}
    assert s._backend.stats()["ranges"] - before == 4  # one range per key, missing included
    assert r["0.0"] == open(work_dir / "b.zarr" / "0.0", "rb").read()


def test_groups_and_consolidated(work_dir):
    path = str(work_dir / "g.zarr")
    root = zarr.open_group(path, mode="w")
    root.attrs["title"] = "t"
    root.create_dataset("x", data=np.arange(10), chunks=(3,))
    root.create_group("sub").create_dataset("y", data=np.ones((4, 4)), chunks=(2, 2))
    zarr.consolidate_metadata(path)
    s = lsio.zarr.Store(path)
    g = zarr.open_group(s, mode="r")
    assert sorted(g.array_keys()) == ["x"] and sorted(g.group_keys()) == ["sub"]
    assert g.attrs["title"] == "t"
    np.testing.assert_array_equal(g["sub/y"][:], np.ones((4, 4)))
    assert s.listdir() == [".zattrs", ".zgroup", ".zmetadata", "sub", "x"]
    assert s.listdir("sub") == [".zgroup", "y"]
    c = zarr.open_consolidated(s, mode="r")
    np.testing.assert_array_equal(c["x"][:], np.arange(10))
    assert s.getsize("x") == sum(len(s[k]) for k in s.keys() if k.startswith("x/"))


def test_read_only_and_missing(work_dir):
    path = str(work_dir / "c.zarr")
    zarr.open_array(path, mode="w", shape=(4,), chunks=(2,), dtype="i1")[:] = 1
    s = lsio.zarr.Store(path)
    with pytest.raises(KeyError):
        s["missing"]
    with pytest.raises(KeyError):
        s[".zarray/inside"]
    with pytest.raises(ReadOnlyError):
        s["0"] = b"x"
    with pytest.raises(ReadOnlyError):
        del s["0"]
    with pytest.raises(Exception):
        zarr.open_array(s, mode="r+")[0] = 5
    s2 = pickle.loads(pickle.dumps(s))
    assert s2 == s and hash(s2) == hash(s) and s2["0"] == s["0"]
    empty = lsio.zarr.Store(str(work_dir / "nothing.zarr"))
    assert len(empty) == 0 and ".zarray" not in empty
    with pytest.raises(Exception):
        zarr.open_array(empty, mode="r")


def test_forked_child(work_dir):
    import os
    path = str(work_dir / "f.zarr")
    zarr.open_array(path, mode="w", shape=(6,), chunks=(2,), dtype="i2")[:] = np.arange(6)
    s = lsio.zarr.Store(path)
    assert s["0"]  # the backend's threads exist before the fork
    pid = os.fork()
    if pid == 0:
        try:
            ok = list(zarr.open_array(s, mode="r")[:]) == list(range(6))
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    import time
    for _ in range(3000):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("a read in a forked child hung")
    assert os.waitstatus_to_exitcode(status) == 0
