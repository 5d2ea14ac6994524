"""The Python package over HTTP (nginx) and S3 (s3rver) on loopback: arrays
and groups written by zarr-python 2.13 read the same as zarr-python reads
the local copy (lsio.open, read_many, open_group with S3 listing,
lsio.zarr.Store, the xarray backend, lsio.dask), missing URLs raise
FileNotFoundError naming the URL, and the S3 secret never appears in an
error. Servers come from tests/servers (skips when one is not installed).
"""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from lsio_built import lsio  # skips this module when not built

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
import harness  # noqa: E402

BUCKET = "lsio-py"
SECRET = "PySecretNeverShown"  # s3rver checks the key id only


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("py-remote")
    x = np.cumsum(np.random.default_rng(2).standard_normal((30, 50)), axis=1).astype("<f4")
    g = zarr.open_group(str(root / "g.zarr"), mode="w")
    g.attrs["title"] = "remote"
    a = g.create_dataset("t", shape=x.shape, chunks=(8, 16), dtype="<f4", fill_value=np.nan,
                         compressor=numcodecs.Zstd(level=1))
    a[:] = x
    a.attrs["_ARRAY_DIMENSIONS"] = ["y", "x"]
    (root / "g.zarr" / "t" / "1.1").unlink()  # a missing chunk: NaN fill (404 remotely)
    y = g.create_dataset("y", data=np.arange(30, dtype="<i8"), chunks=(30,))
    y.attrs["_ARRAY_DIMENSIONS"] = ["y"]
    zarr.consolidate_metadata(str(root / "g.zarr"))
    # big blosc chunks (2 MiB, several blocks) for partial and sparse reads
    b = zarr.open_array(str(root / "b.zarr"), mode="w", shape=(32, 128, 512),
                        chunks=(16, 128, 256), dtype="<f4",
                        compressor=numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE))
    b[...] = np.cumsum(np.random.default_rng(3).standard_normal(b.shape), axis=2)
    return root, zarr.open_array(str(root / "g.zarr" / "t"), mode="r")[:]


@pytest.fixture(scope="module")
def http_base(data):
    root, _ = data
    try:
        with harness.server("nginx", root) as port:
            yield "http://127.0.0.1:%d" % port
    except harness.Skip as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def s3_base(data, tmp_path_factory):
    pytest.importorskip("boto3")
    root, _ = data
    try:
        with harness.server("s3rver", tmp_path_factory.mktemp("s3rver"), buckets=[BUCKET]) as port:
            c = harness.boto3_client(port)
            for d, _, fs in os.walk(root):
                for f in fs:
                    p = Path(d) / f
                    c.put_object(Bucket=BUCKET, Key=str(p.relative_to(root)), Body=p.read_bytes())
            yield "s3://" + BUCKET, port
    except harness.Skip as e:
        pytest.skip(str(e))


@pytest.fixture
def s3(s3_base, monkeypatch):
    """(base URL, options) with s3rver's credentials in the environment."""
    base, port = s3_base
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_NO_SIGN_REQUEST", "AWS_ENDPOINT_URL_S3",
              "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", harness.S3_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    return base, {"endpoint": "http://127.0.0.1:%d" % port, "region": "us-east-1"}


def check_array(url, x, **opts):
    a = lsio.open(url, **opts)
    assert a.backend in ("http", "s3")
    np.testing.assert_array_equal(a[:], x)
    np.testing.assert_array_equal(a[3:29:5, ::-7], x[3:29:5, ::-7])
    keys = [(slice(t, t + 4), slice(c, c + 9)) for t, c in ((0, 0), (5, 12), (20, 30), (9, 9))]
    for k, o in zip(keys, a.read_many(keys)):
        np.testing.assert_array_equal(o, x[k])
    assert a.stats()["chunks_missing"] > 0


def test_http_array_and_group(http_base, data):
    _, x = data
    check_array(http_base + "/g.zarr/t", x)
    g = lsio.open_group(http_base + "/g.zarr")  # consolidated: no listing over HTTP
    assert g.members == ("t", "y") and g.attrs == {"title": "remote"}
    np.testing.assert_array_equal(g["t"][:], x)
    with pytest.raises(FileNotFoundError, match="127.0.0.1"):
        lsio.open(http_base + "/g.zarr/missing")


def test_s3_array_and_group(s3, data):
    base, opts = s3
    _, x = data
    check_array(base + "/g.zarr/t", x, **opts)
    g = lsio.open_group(base + "/g.zarr", **opts)
    assert g.members == ("t", "y")
    np.testing.assert_array_equal(g["t"][5], x[5])
    with pytest.raises(FileNotFoundError) as ei:
        lsio.open(base + "/nothing.zarr", **opts)
    assert BUCKET in str(ei.value) and SECRET not in str(ei.value)


def check_sparse(url, ref, **opts):
    """Crops of big blosc chunks (2 MiB): the first read of a chunk probes
    its header (4 KiB) and then fetches the blocks needed, later ones know
    the header; fewer bytes than whole chunks (LSIO_NO_SPARSE_READS=1),
    values equal zarr-python's."""
    crops = [(slice(1, 5), slice(10, 74), slice(20, 84)), (slice(17, 19), 100, slice(250, 270))]

    def passes(n):
        a = lsio.open(url, **opts)
        fetched = []
        for _ in range(n):
            before = a.stats()["bytes_read"]
            for c in crops:
                np.testing.assert_array_equal(a[c], ref[c])
            fetched.append(a.stats()["bytes_read"] - before)
        a.close()
        return fetched

    os.environ["LSIO_NO_SPARSE_READS"] = "1"
    try:
        whole = passes(1)[0]
    finally:
        del os.environ["LSIO_NO_SPARSE_READS"]
    first, second = passes(2)
    assert first < whole * 0.75 and second <= first, (whole, first, second)


def test_sparse_reads_remote(http_base, s3, data):
    root, _ = data
    ref = zarr.open_array(str(root / "b.zarr"), mode="r")[...]
    check_sparse(http_base + "/b.zarr", ref)
    base, opts = s3
    check_sparse(base + "/b.zarr", ref, **opts)


def test_probe_of_small_remote_chunks(http_base, data, tmp_path_factory):
    """Chunks of >= 1 MiB decoded that are stored in fewer bytes than the
    probe asks (a constant array: blosc makes a few bytes of it): the probe
    comes back short, the chunk is read whole, values right."""
    root, _ = data
    z = zarr.open_array(str(root / "c.zarr"), mode="w", shape=(16, 256, 256),
                        chunks=(8, 128, 256), dtype="<f4",
                        compressor=numcodecs.Blosc("zstd", 5, numcodecs.Blosc.SHUFFLE))
    z[...] = 7.5
    z[0, 0, 0] = 1.0
    assert (root / "c.zarr" / "0.0.0").stat().st_size < 4096
    a = lsio.open(http_base + "/c.zarr")
    np.testing.assert_array_equal(a[0, 0:3, 0:3], z[0, 0:3, 0:3])
    np.testing.assert_array_equal(a[9, 200:203, 7], z[9, 200:203, 7])
    a.close()


def test_s3_bad_credentials_raise_lsio_error(s3, monkeypatch):
    base, opts = s3
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "NOT-A-KNOWN-KEY")
    with pytest.raises(OSError) as ei:  # lsio.Error (HTTP 403) or, as S3 says, not found
        lsio.open(base + "/g.zarr/t", **opts)
    assert SECRET not in str(ei.value)


def test_zarr_store_remote(http_base, s3, data):
    _, x = data
    z = zarr.open_array(lsio.zarr.Store(http_base + "/g.zarr/t"), mode="r")
    np.testing.assert_array_equal(z[:], x)
    base, opts = s3
    s = lsio.zarr.Store(base + "/g.zarr", **opts)
    assert "t/.zarray" in s and "t/1.1" not in s
    assert sorted(k for k in s.keys() if k.startswith("t/0."))[:2] == ["t/0.0", "t/0.1"]
    np.testing.assert_array_equal(zarr.open_group(s, mode="r")["t"][:], x)


def test_xarray_and_dask_remote(http_base, data):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("dask")
    import lsio.dask
    from lsio.xarray_backend import LsioBackendEntrypoint
    root, x = data
    ds = xr.open_dataset(http_base + "/g.zarr", engine=LsioBackendEntrypoint)
    ref = xr.open_dataset(str(root / "g.zarr"), engine="zarr")
    xr.testing.assert_identical(ds.load(), ref.load())
    d = lsio.dask.from_url(http_base + "/g.zarr/t", chunks=(10, 25))
    np.testing.assert_array_equal(d.compute(), x)
