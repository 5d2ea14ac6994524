"""`lsio info`, `lsio get` and `lsio stats` on Zarr arrays served over
HTTP (nginx) and S3 (s3rver, uploaded with boto3) give the same results as
on local disk: arrays written by zarr-python 2.13 (missing chunks, NaN
fill, nested keys, F order, several codecs) and v3 sharded arrays of the
zarrita fixtures. Also: a missing array over each scheme fails naming the
URL, and the S3 secret never shows in any output."""
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
import harness  # noqa: E402

BUCKET = "lsio-zarr"
SECRET = "SeCrEtNotShownAnywhere"  # s3rver checks the key id only


def write_arrays(root):
    """Arrays written by zarr-python 2.13 under root; returns their names."""
    import numcodecs
    import zarr
    names = []
    a = zarr.open_array(str(root / "f4.zarr"), mode="w", shape=(20, 30), chunks=(10, 10),
                        dtype="<f4", compressor=numcodecs.Zstd(level=1), fill_value=float("nan"))
    a[...] = np.arange(600, dtype="<f4").reshape(20, 30) * 0.25 - 7
    (root / "f4.zarr" / "0.0").unlink()  # missing chunks: NaN fill (404 remotely)
    (root / "f4.zarr" / "1.2").unlink()
    names.append("f4.zarr")
    b = zarr.open_array(str(root / "nested_i2F.zarr"), mode="w", shape=(13, 7, 5), chunks=(4, 3, 5),
                        dtype=">i2", order="F", dimension_separator="/", fill_value=-3,
                        compressor=numcodecs.Blosc(cname="lz4", clevel=5,
                                                   shuffle=numcodecs.Blosc.SHUFFLE))
    b[...] = (np.arange(13 * 7 * 5).reshape(13, 7, 5) % 1000 - 500).astype(">i2")
    names.append("nested_i2F.zarr")
    c = zarr.open_array(str(root / "big_f8.zarr"), mode="w", shape=(300, 400), chunks=(64, 128),
                        dtype="<f8", compressor=numcodecs.Blosc(cname="zstd", clevel=3))
    rng = np.random.default_rng(5)
    c[...] = rng.standard_normal((300, 400)).cumsum(axis=1)
    names.append("big_f8.zarr")
    d = zarr.open_array(str(root / "raw_i4.zarr"), mode="w", shape=(40, 50), chunks=(16, 16),
                        dtype="<i4", compressor=None, fill_value=0)
    d[...] = np.arange(2000, dtype="<i4").reshape(40, 50) - 1000
    names.append("raw_i4.zarr")
    shutil.copytree(root / "raw_i4.zarr", root / "raw_long.zarr")  # one chunk object too long
    with open(root / "raw_long.zarr" / "1.2", "ab") as f:
        f.write(b"\0" * 8)
    # chunks as wide as the array: each one is its place in the output (read
    # straight into it locally); one of them too long
    e = zarr.open_array(str(root / "raw_rows_long.zarr"), mode="w", shape=(40, 16),
                        chunks=(8, 16), dtype="<i4", compressor=None, fill_value=0)
    e[...] = np.arange(640, dtype="<i4").reshape(40, 16)
    with open(root / "raw_rows_long.zarr" / "2.0", "ab") as f:
        f.write(b"\0" * 8)
    # chunks that are rows of the output (1 KiB, edge chunks 752 bytes):
    # read into those rows with one scattered read each, remotely too; a
    # copy with one chunk object too long and one too short
    f = zarr.open_array(str(root / "raw_rows_f4.zarr"), mode="w", shape=(24, 700),
                        chunks=(8, 256), dtype="<f4", compressor=None, fill_value=-2)
    f[...] = np.arange(24 * 700, dtype="<f4").reshape(24, 700) * 0.5 - 99
    (root / "raw_rows_f4.zarr" / "2.1").unlink()  # missing: the fill value
    names.append("raw_rows_f4.zarr")
    shutil.copytree(root / "raw_rows_f4.zarr", root / "raw_rows_bad.zarr")
    with open(root / "raw_rows_bad.zarr" / "1.1", "ab") as g:
        g.write(b"\0" * 8)
    os.truncate(root / "raw_rows_bad.zarr" / "0.2", 1000)
    # a v3 shard (index at the end) whose entry 1 reaches one byte into the
    # index, beside the same shard intact (test_zarr_nested_shards)
    from test_zarr_nested_shards import overlap_store
    overlap_store(root, False)
    fx = Path(os.environ.get("LSIO_FIXTURES", Path(__file__).resolve().parents[3] / "shared" / "fixtures"))
    v3 = fx / "zarrita" / "v3" / "data.zarr"
    for n in ("3d.chunked.mixed.compressed.sharded.i2", "2d.chunked.compressed.sharded.filled.i2",
              "1d.contiguous.compressed.sharded.f8"):
        if (v3 / n).is_dir():
            shutil.copytree(v3 / n, root / "v3" / n)
            names.append("v3/" + n)
    return names


@pytest.fixture(scope="module")
def served(tmp_path_factory, lsio_zarr):
    pytest.importorskip("zarr")
    root = tmp_path_factory.mktemp("remote-zarr")
    names = write_arrays(root)
    yield root, names


@pytest.fixture(scope="module")
def http_base(served):
    root, _ = served
    try:
        with harness.server("nginx", root) as port:
            yield "http://127.0.0.1:%d" % port, dict(os.environ)
    except harness.Skip as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def s3_base(served, tmp_path_factory):
    pytest.importorskip("boto3")
    root, _ = served
    try:
        with harness.server("s3rver", tmp_path_factory.mktemp("s3rver"), buckets=[BUCKET]) as port:
            c = harness.boto3_client(port)
            for d, _, fs in os.walk(root):
                for f in fs:
                    p = Path(d) / f
                    c.put_object(Bucket=BUCKET, Key=str(p.relative_to(root)), Body=p.read_bytes())
            env = dict(os.environ)
            env.update(harness.s3_env(port))
            env["AWS_SECRET_ACCESS_KEY"] = SECRET
            for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_NO_SIGN_REQUEST", "AWS_ENDPOINT_URL_S3"):
                env.pop(k, None)
            yield "s3://" + BUCKET, env
    except harness.Skip as e:
        pytest.skip(str(e))


@pytest.fixture(params=["http", "s3"])
def remote(request):
    return request.getfixturevalue("http_base" if request.param == "http" else "s3_base"), request.param


def both(lsio_zarr, served, remote, name, *args):
    """Run lsio on the local array and on its remote copy; both outputs with
    the location replaced by <LOC>."""
    root, _ = served
    (base, env), _ = remote
    local = str(root / name)
    url = "%s/%s" % (base, name)
    rl = lsio_zarr(*args[:1], local, *args[1:])
    rr = lsio_zarr(*args[:1], url, *args[1:], env=env)
    assert rl.returncode == 0, rl.stderr
    assert rr.returncode == 0, "%s %s: %s" % (args[0], url, rr.stderr)
    for r in (rl, rr):
        assert SECRET not in r.stdout + r.stderr
    return rl.stdout.replace(local, "<LOC>"), rr.stdout.replace(url, "<LOC>")


ARRAYS = ["f4.zarr", "nested_i2F.zarr", "big_f8.zarr", "raw_i4.zarr", "raw_rows_f4.zarr", "v3/3d.chunked.mixed.compressed.sharded.i2",
          "v3/2d.chunked.compressed.sharded.filled.i2", "v3/1d.contiguous.compressed.sharded.f8"]


def present(served, name):
    if name not in served[1]:
        pytest.skip("%s: fixture not available" % name)


LISTING_KEYS = ("stored", "chunks_present", "present", "nchunks_stored")


def drop_unlisted(lo, ro):
    """http cannot be listed: where the remote reports null for a figure that
    needs a listing (stored sizes, chunks present), do not compare it."""
    if isinstance(lo, dict) and isinstance(ro, dict):
        for k in list(lo):
            if k in ro and ro[k] is None and lo[k] is not None and any(s in k for s in LISTING_KEYS):
                lo[k] = None
            elif k in ro:
                drop_unlisted(lo[k], ro[k])


@pytest.mark.parametrize("name", ARRAYS)
def test_info_json(lsio_zarr, served, remote, name):
    present(served, name)
    lo, ro = both(lsio_zarr, served, remote, name, "info", "--json")
    lo, ro = json.loads(lo), json.loads(ro)
    if remote[1] == "http":
        drop_unlisted(lo, ro)
    assert ro == lo


@pytest.mark.parametrize("name", ["f4.zarr", "v3/3d.chunked.mixed.compressed.sharded.i2"])
def test_info_text_s3(lsio_zarr, served, s3_base, name):
    present(served, name)
    lo, ro = both(lsio_zarr, served, (s3_base, "s3"), name, "info")
    assert ro == lo


@pytest.mark.parametrize("name", ARRAYS)
def test_get(lsio_zarr, served, remote, name, work_dir):
    present(served, name)
    root, _ = served
    (base, env), _ = remote
    lo, ro = work_dir / "l.npy", work_dir / "r.npy"
    r = lsio_zarr("get", root / name, "-o", lo)
    assert r.returncode == 0, r.stderr
    r = lsio_zarr("get", "%s/%s" % (base, name), "-o", ro, env=env)
    assert r.returncode == 0, r.stderr
    assert SECRET not in r.stdout + r.stderr
    assert ro.read_bytes() == lo.read_bytes()
    if not name.startswith("v3/"):
        import zarr
        want = zarr.open_array(str(root / name), mode="r")[...]
        assert np.array_equal(np.load(ro), want, equal_nan=True)


@pytest.mark.parametrize("name", ["f4.zarr", "big_f8.zarr"])
def test_get_selection(lsio_zarr, served, remote, name, work_dir):
    root, _ = served
    (base, env), _ = remote
    sel = "3:17,::-4" if name == "f4.zarr" else "100:101,5:399:7"
    lo, ro = work_dir / "l.npy", work_dir / "r.npy"
    assert lsio_zarr("get", root / name, "--select", sel, "-o", lo).returncode == 0
    r = lsio_zarr("get", "%s/%s" % (base, name), "--select", sel, "-o", ro, env=env)
    assert r.returncode == 0, r.stderr
    assert ro.read_bytes() == lo.read_bytes()


@pytest.mark.parametrize("name", ARRAYS)
def test_stats(lsio_zarr, served, remote, name):
    present(served, name)
    lo, ro = both(lsio_zarr, served, remote, name, "stats", "--json", "--no-progress")
    lo, ro = json.loads(lo), json.loads(ro)
    # mean and std are summed in completion order (chunks arrive in any
    # order, locally too): equal to rounding
    for k in ("mean", "std"):
        assert ro.pop(k) == pytest.approx(lo.pop(k), rel=1e-12, abs=1e-300), k
    lo.pop("seconds")
    ro.pop("seconds")
    assert ro == lo


def test_missing_array_names_url(lsio_zarr, remote):
    (base, env), _ = remote
    url = "%s/no/such.zarr" % base
    r = lsio_zarr("info", url, env=env)
    assert r.returncode != 0
    assert "no/such.zarr" in r.stderr
    assert SECRET not in r.stdout + r.stderr


def test_overlong_raw_chunk_names_key(lsio_zarr, served, remote, work_dir):
    """An uncompressed chunk object longer than its chunk is an error naming
    the chunk, remotely as locally (not silently cut to the chunk's size)."""
    root, _ = served
    (base, env), _ = remote
    for loc, e in ((str(root / "raw_long.zarr"), None), ("%s/raw_long.zarr" % base, env)):
        r = lsio_zarr("get", loc, "-o", work_dir / "o.npy", env=e) if e else \
            lsio_zarr("get", loc, "-o", work_dir / "o.npy")
        assert r.returncode != 0, loc
        assert "chunk 1.2" in r.stderr and "1032 bytes, expected 1024" in r.stderr, r.stderr
    # chunks read straight into the output (locally) are checked too
    for loc, e in ((str(root / "raw_rows_long.zarr"), None),
                   ("%s/raw_rows_long.zarr" % base, env)):
        r = lsio_zarr("get", loc, "-o", work_dir / "o.npy", env=e) if e else \
            lsio_zarr("get", loc, "-o", work_dir / "o.npy")
        assert r.returncode != 0, loc
        assert "chunk 2.0" in r.stderr and "520 bytes, expected 512" in r.stderr, r.stderr
    # and chunks read into their rows: too long, too short (each alone)
    for loc, e in ((str(root / "raw_rows_bad.zarr"), None),
                   ("%s/raw_rows_bad.zarr" % base, env)):
        for sel, want in (("8:16,256:512", "chunk 1.1: 8200 bytes, expected 8192"),
                          ("0:8,600:700", "chunk 0.2")):
            args = ("get", loc, "--select", sel, "-o", work_dir / "o.npy")
            r = lsio_zarr(*args, env=e) if e else lsio_zarr(*args)
            assert r.returncode != 0, (loc, sel)
            assert want in r.stderr, r.stderr


def test_shard_entry_overlapping_index_at_end_refused(lsio_zarr, served, remote, work_dir):
    """Remotely the shard index at the end is read as a suffix range; where it
    begins tells the shard's size, so an inner chunk reaching into the index
    is refused as it is locally (the chunks are raw bytes: read, it would be
    wrong numbers, not a decoding error)."""
    root, _ = served
    (base, env), _ = remote
    r = lsio_zarr("get", "%s/good0.zarr" % base, "-o", work_dir / "g.npy", env=env)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(work_dir / "g.npy"), np.arange(11, 19, dtype="u1"))
    r = lsio_zarr("get", "%s/overlap0.zarr" % base, "-o", work_dir / "x.npy", env=env)
    assert r.returncode != 0, "an inner chunk inside the shard index was read as data"
    assert "c/0" in r.stderr and "index entry 1" in r.stderr and "overlaps" in r.stderr, r.stderr
    assert SECRET not in r.stdout + r.stderr
