"""Array.read(..., mask_fill=True): elements equal to the fill value (and
missing chunks) read as NaN, done by LSIO while it decodes — checked
against zarr-python 2.13's values masked with numpy, over compressed,
blosc (partial decoding) and uncompressed arrays, float32 and float64,
whole reads, chunk-sized pieces, small boxes, negative steps and missing
chunks; a NaN fill changes nothing; integer arrays are refused."""
import numpy as np
import pytest
import zarr
from numcodecs import Blosc, Zstd

from lsio_built import lsio  # skips this module when not built

SELS = [(), (slice(0, 16), slice(0, 32), slice(0, 32)),  # one whole chunk, in place
        (slice(3, 5), slice(1, 9), slice(30, 40)), (slice(None, None, -3), 7, slice(None)),
        (5, 5, 5), (slice(10, 30), slice(None), slice(60, 64))]


def masked(values, fill):
    return np.where(values == fill, np.nan, values)


@pytest.mark.parametrize("dtype", ["<f4", "<f8", ">f4"])
@pytest.mark.parametrize("compressor", ["blosc", "zstd", None])
def test_mask_fill_equals_numpy(work_dir, dtype, compressor):
    rng = np.random.default_rng(2)
    data = rng.integers(-3, 4, size=(32, 64, 64)).astype(dtype)  # many zeros... and -3s
    comp = {"blosc": Blosc("lz4", 5, Blosc.SHUFFLE), "zstd": Zstd(1), None: None}[compressor]
    path = str(work_dir / "m.zarr")
    z = zarr.open_array(path, mode="w", shape=data.shape, chunks=(16, 32, 32), dtype=dtype,
                        compressor=comp, fill_value=-3)
    z[...] = data
    z[16:, 32:, 32:] = -3  # that chunk all fill: zarr-python does not store it
    a = lsio.open(path)
    ref = z[...]
    for sel in SELS:
        got = a.read(sel, mask_fill=True)
        want = masked(ref[sel], -3)
        np.testing.assert_array_equal(got, want, err_msg=str(sel))
        assert np.isnan(got).any() or not (ref[sel] == -3).any()
        np.testing.assert_array_equal(a.read(sel), ref[sel])  # unmasked unchanged
    out = np.empty(data.shape, a.dtype)
    assert a.read(None, out=out, mask_fill=True) is out
    np.testing.assert_array_equal(out, masked(ref, -3))
    a.close()


def test_mask_fill_nan_and_refusals(work_dir):
    path = str(work_dir / "n.zarr")
    z = zarr.open_array(path, mode="w", shape=(10, 10), chunks=(5, 5), dtype="f4",
                        fill_value=np.nan)
    z[:5, :5] = 1.0
    z[0, 0] = 0.0
    a = lsio.open(path)
    got = a.read(None, mask_fill=True)
    np.testing.assert_array_equal(got, z[...])  # a NaN fill: nothing to mask
    a.close()
    path = str(work_dir / "i.zarr")
    zi = zarr.open_array(path, mode="w", shape=(4,), chunks=(2,), dtype="i4", fill_value=0)
    zi[...] = 1
    ai = lsio.open(path)
    with pytest.raises(ValueError, match="float32 and float64"):
        ai.read(None, mask_fill=True)
    np.testing.assert_array_equal(ai[...], np.ones(4, "i4"))
    ai.close()


def test_mask_fill_partial_and_sparse_reads(work_dir):
    """Large blosc chunks: crops decode part of a chunk (a probe of its
    header first, then its known header): masked the same."""
    rng = np.random.default_rng(4)
    data = np.cumsum(rng.standard_normal((32, 256, 512)), axis=2).astype("f4")
    data[data > 5] = 0.0  # the fill value, often
    path = str(work_dir / "b.zarr")
    z = zarr.open_array(path, mode="w", shape=data.shape, chunks=(16, 256, 256), dtype="f4",
                        compressor=Blosc("lz4", 5, Blosc.SHUFFLE), fill_value=0.0)
    z[...] = data
    a = lsio.open(path)
    crops = [(slice(2, 6), slice(10, 74), slice(100, 164)),
             (slice(14, 18), slice(200, 256), slice(250, 262)), (9, slice(None), 300)]
    for _ in range(2):
        for c in crops:
            np.testing.assert_array_equal(a.read(c, mask_fill=True), masked(data[c], 0.0))
    a.close()
