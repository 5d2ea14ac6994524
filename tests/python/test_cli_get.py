"""`lsio get`: the .npy it writes (header as numpy writes it, dtype in
native order, C order, the selection's shape), --raw, output to a pipe,
and its errors (missing URL, bad selection, corrupt chunk naming its key),
against arrays written by zarr-python 2.13."""
import os
import subprocess

import numpy as np
import pytest


@pytest.fixture
def arr(work_dir):
    """A (7, 9, 5) big-endian float32 array, chunks (3, 4, 5), zstd."""
    import numcodecs
    import zarr
    path = work_dir / "a.zarr"
    data = (np.arange(7 * 9 * 5, dtype=">f4").reshape(7, 9, 5) * 0.5 - 40)
    data[2, 3, 1] = np.nan
    z = zarr.open_array(str(path), mode="w", shape=data.shape, chunks=(3, 4, 5), dtype=">f4",
                        compressor=numcodecs.Zstd(level=3), fill_value=-1.0)
    z[...] = data
    return path, data


def test_npy_whole(arr, lsio_zarr, work_dir):
    path, data = arr
    out = work_dir / "o.npy"
    r = lsio_zarr("get", path, "-o", out)
    assert r.returncode == 0, r.stderr
    got = np.load(out)
    assert got.dtype == np.dtype("=f4")
    assert got.flags.c_contiguous
    assert np.array_equal(got, data, equal_nan=True)
    raw = out.read_bytes()
    assert raw[:8] == b"\x93NUMPY\x01\x00"
    hlen = int.from_bytes(raw[8:10], "little")
    assert (10 + hlen) % 64 == 0 and raw[10 + hlen - 1:10 + hlen] == b"\n"
    assert len(raw) == 10 + hlen + data.nbytes


@pytest.mark.parametrize("sel,index", [
    ("0:3,:,4", np.s_[0:3, :, 4]),
    ("-1", np.s_[-1]),
    ("::-2,1:8:3", np.s_[::-2, 1:8:3]),
    ("...", np.s_[...]),
    ("2,3,1", np.s_[2, 3, 1]),
    ("5:2", np.s_[5:2]),
])
def test_selection_shape_and_values(arr, lsio_zarr, work_dir, sel, index):
    path, data = arr
    out = work_dir / "o.npy"
    r = lsio_zarr("get", path, "--select", sel, "-o", out)
    assert r.returncode == 0, r.stderr
    got = np.load(out)
    want = np.asarray(data[index])
    assert got.shape == want.shape
    assert np.array_equal(got, want, equal_nan=True)


def test_raw(arr, lsio_zarr, work_dir):
    path, data = arr
    out = work_dir / "o.raw"
    r = lsio_zarr("get", path, "--select", "1:4", "--raw", "-o", out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == data[1:4].astype("=f4").tobytes()


def test_stdout_pipe_equals_file(arr, lsio_zarr, lsio_bin, work_dir):
    path, _ = arr
    out = work_dir / "o.npy"
    assert lsio_zarr("get", path, "-o", out).returncode == 0
    p = subprocess.run([str(lsio_bin), "get", str(path), "-o", "-"], capture_output=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout == out.read_bytes()


def test_overwrites_longer_file(arr, lsio_zarr, work_dir):
    path, data = arr
    out = work_dir / "o.npy"
    out.write_bytes(b"x" * 100000)
    assert lsio_zarr("get", path, "--select", "0", "-o", out).returncode == 0
    assert np.array_equal(np.load(out), data[0], equal_nan=True)


def test_missing_url(lsio_zarr, work_dir):
    url = work_dir / "nothing.zarr"
    r = lsio_zarr("get", url, "-o", work_dir / "o.npy")
    assert r.returncode == 1
    assert str(url) in r.stderr
    assert not (work_dir / "o.npy").exists()


@pytest.mark.parametrize("sel", ["0:3,:,:,1", "9", "::0", "a:b", "1,,2", "-8"])
def test_bad_selection(arr, lsio_zarr, work_dir, sel):
    path, _ = arr
    r = lsio_zarr("get", path, "--select", sel, "-o", work_dir / "o.npy")
    assert r.returncode != 0
    assert "select" in r.stderr.lower() or sel in r.stderr, r.stderr
    assert not (work_dir / "o.npy").exists()


def test_corrupt_chunk_names_key(arr, lsio_zarr, work_dir):
    path, _ = arr
    (path / "1.1.0").write_bytes(b"this is not zstd data at all")
    out = work_dir / "o.npy"
    r = lsio_zarr("get", path, "-o", out)
    assert r.returncode == 1
    assert "1.1.0" in r.stderr, r.stderr
    assert not out.exists(), "a failed get must not leave a partial file"


def test_truncated_chunk_names_key(arr, lsio_zarr, work_dir):
    path, _ = arr
    chunk = path / "2.0.0"
    chunk.write_bytes(chunk.read_bytes()[:10])
    r = lsio_zarr("get", path, "--select", "6", "-o", work_dir / "o.npy")
    assert r.returncode == 1
    assert "2.0.0" in r.stderr, r.stderr


def test_missing_chunk_reads_fill(arr, lsio_zarr, work_dir):
    path, data = arr
    (path / "0.0.0").unlink()
    out = work_dir / "o.npy"
    assert lsio_zarr("get", path, "-o", out).returncode == 0
    want = data.copy()
    want[0:3, 0:4, :] = -1.0
    assert np.array_equal(np.load(out), want, equal_nan=True)


def test_usage_errors(run_lsio, work_dir):
    assert run_lsio("get").returncode == 2
    assert run_lsio("get", work_dir).returncode == 2  # no -o
    assert run_lsio("get", work_dir, "-o", work_dir / "x", "--bogus").returncode == 2
    r = run_lsio("get", "--help")
    assert r.returncode == 0 and "--select" in r.stdout


def test_strings_fixed_and_vlen(lsio_zarr, work_dir):
    import numcodecs
    import zarr
    s = np.array([["a", "héllo"], ["🚀", ""]], dtype="<U5")
    z = zarr.open_array(str(work_dir / "u.zarr"), mode="w", shape=s.shape, dtype=s.dtype)
    z[...] = s
    o = zarr.open_array(str(work_dir / "o.zarr"), mode="w", shape=s.shape, dtype=object,
                        object_codec=numcodecs.VLenUTF8())
    o[...] = s.astype(object)
    for name in ("u.zarr", "o.zarr"):
        r = lsio_zarr("get", work_dir / name, "-o", work_dir / "s.npy")
        assert r.returncode == 0, r.stderr
        got = np.load(work_dir / "s.npy")
        assert got.dtype == np.dtype("<U5") and np.array_equal(got, s), (name, got)


@pytest.fixture
def big(work_dir):
    """(600, 256, 256) int32 = 150 MiB, chunks (7, 256, 256), no compressor:
    several 64 MiB slabs of `lsio get` (252 + 252 + 96 rows), so the writer
    thread writes one while the next is read."""
    import zarr
    path = work_dir / "big.zarr"
    z = zarr.open_array(str(path), mode="w", shape=(600, 256, 256), chunks=(7, 256, 256),
                        dtype="<i4", compressor=None)
    data = np.arange(600 * 256 * 256, dtype="<i4").reshape(600, 256, 256)
    data[::37] *= -3
    z[...] = data
    return path, data


@pytest.mark.parametrize("sel,index", [("...", np.s_[...]), ("::-1,5,:", np.s_[::-1, 5, :]),
                                       ("3:590:2", np.s_[3:590:2])])
def test_many_slabs(big, lsio_zarr, work_dir, sel, index):
    path, data = big
    out = work_dir / "o.npy"
    r = lsio_zarr("get", path, "--select", sel, "-o", out)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(out, mmap_mode="r"), data[index])


def test_many_slabs_write_error(big, lsio_zarr):
    """A write that fails (a full device) is an error naming the output, not
    a hang of the reader waiting for the writer thread."""
    path, _ = big
    r = lsio_zarr("get", path, "-o", "/dev/full")
    assert r.returncode != 0
    assert "/dev/full" in r.stderr and "No space left" in r.stderr


@pytest.mark.parametrize("row", [5, 300, 599])
def test_many_slabs_read_error(big, lsio_zarr, work_dir, row):
    """A chunk that cannot be read in the first, a middle or the last slab
    (two slabs are read at once by two threads) fails the whole get with its
    key named, leaves no partial output and does not hang."""
    path, _ = big
    key = "%d.0.0" % (row // 7)
    chunk = path / key
    chunk.write_bytes(chunk.read_bytes()[:1000])
    out = work_dir / "o.npy"
    r = lsio_zarr("get", path, "-o", out, timeout=120)
    assert r.returncode == 1
    assert key in r.stderr, r.stderr
    assert not out.exists(), "a failed get must not leave a partial file"


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MiB tmpfs (root only; skipped where mounting is not allowed)."""
    import shutil
    mnt = tmp_path / "small_tmpfs"
    mnt.mkdir()
    if not shutil.which("mount") or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
            capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_tmpfs_without_room_fails_first(big, lsio_zarr, small_tmpfs):
    """Into tmpfs the output is not fallocated (that would zero every page
    before the writes copy over them) but its room is asked for: too little
    fails at once, naming the file, and leaves nothing; a small selection
    that fits is written."""
    import shutil
    path, data = big
    out = small_tmpfs / "o.npy"
    # the first chunk cut short: an error about it would mean the read began
    cut = path.parent / "cut.zarr"
    shutil.copytree(path, cut)
    os.truncate(cut / "0.0.0", 100)
    r = lsio_zarr("get", cut, "-o", out)
    assert r.returncode != 0
    assert str(out) in r.stderr and "No space left" in r.stderr, r.stderr
    assert "0.0.0" not in r.stderr, r.stderr
    assert not out.exists()
    r = lsio_zarr("get", path, "--select", "0:2", "-o", out)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(out), data[0:2])
