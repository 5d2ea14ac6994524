"""The xarray backend (lsio.xarray_backend): datasets written by xarray's
own zarr engine open identically through LSIO (dims, coordinates,
attributes, CF decoding: masks, scale/offset, times), lazily (a sel reads
only the chunks it needs), with ds.sel / mean equal to xarray's zarr engine;
v3 groups take dimension names from dimension_names.
"""
import json
import os

import numpy as np
import pytest

from lsio_built import lsio  # skips this module when not built

xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")
from lsio.xarray_backend import LsioBackendArray, LsioBackendEntrypoint  # noqa: E402

ENGINE = LsioBackendEntrypoint


def make_dataset():
    rng = np.random.default_rng(9)
    nt, ny, nx = 10, 24, 36
    time = np.datetime64("2020-01-01") + np.arange(nt) * np.timedelta64(6, "h")
    t2m = (280 + np.cumsum(rng.standard_normal((nt, ny, nx)), axis=2)).astype("f4")
    t2m[0, 0, :5] = np.nan
    precip = rng.gamma(1.0, 2.0, size=(nt, ny, nx))
    ds = xr.Dataset(
        {"t2m": (("time", "lat", "lon"), t2m, {"units": "K", "long_name": "2 m temperature"}),
         "precip": (("time", "lat", "lon"), precip, {"units": "mm"}),
         "mask": (("lat", "lon"), rng.random((ny, nx)) < 0.5)},
        coords={"time": time, "lat": np.linspace(-60, 60, ny), "lon": np.linspace(0, 350, nx),
                "station": (("lat",), np.arange(ny) * 10)},
        attrs={"title": "test data", "history": ["made", "by a test"]})
    # packed int16 with scale/offset and a fill value: xarray's CF decoding
    enc = {"precip": {"dtype": "i2", "scale_factor": 0.01, "add_offset": 5.0,
                      "_FillValue": -9999, "chunks": (3, 10, 12)},
           "t2m": {"chunks": (4, 12, 12)}}
    ds["precip"][1, 2, 3] = np.nan
    return ds, enc


@pytest.fixture
def store(work_dir):
    ds, enc = make_dataset()
    path = str(work_dir / "ds.zarr")
    ds.to_zarr(path, encoding=enc, consolidated=True)
    return path


def test_open_dataset_identical_to_zarr_engine(store):
    ref = xr.open_dataset(store, engine="zarr")
    got = xr.open_dataset(store, engine=ENGINE)
    assert set(got.coords) == set(ref.coords) == {"time", "lat", "lon", "station"}
    assert got.t2m.dims == ("time", "lat", "lon")
    assert got.precip.dtype == ref.precip.dtype  # decoded to float
    assert got.attrs == ref.attrs
    for v in ref.variables:
        assert got[v].attrs == ref[v].attrs, v
        assert got[v].encoding.get("scale_factor") == ref[v].encoding.get("scale_factor")
    xr.testing.assert_identical(got.load(), ref.load())
    got.close()


def test_lazy_sel_reads_only_needed_chunks(store):
    ds = xr.open_dataset(store, engine=ENGINE)
    ref = xr.open_dataset(store, engine="zarr")
    var = ds["t2m"].variable._data
    while not isinstance(var, LsioBackendArray):  # unwrap xarray's lazy layers
        var = var.array
    assert var.array.stats()["chunks_read"] == 0  # nothing read at open
    one = ds.t2m.sel(time="2020-01-01T18:00")
    assert var.array.stats()["chunks_read"] == 0  # still lazy
    xr.testing.assert_identical(one.load(), ref.t2m.sel(time="2020-01-01T18:00").load())
    assert var.array.stats()["chunks_read"] == 2 * 3  # one time chunk: 2 x 3 spatial chunks
    m = ds.t2m.sel(lat=slice(-20, 40)).mean(dim=("lat", "lon"))
    r = ref.t2m.sel(lat=slice(-20, 40)).mean(dim=("lat", "lon"))
    xr.testing.assert_allclose(m, r, rtol=1e-6)
    # outer and vectorized indexing go through xarray's adapter
    xr.testing.assert_identical(ds.precip.isel(lat=[1, 5, 3], lon=[0, 2]).load(),
                                ref.precip.isel(lat=[1, 5, 3], lon=[0, 2]).load())
    pts = dict(lat=xr.DataArray([1, 4], dims="p"), lon=xr.DataArray([3, 7], dims="p"))
    xr.testing.assert_identical(ds.t2m.isel(**pts).load(), ref.t2m.isel(**pts).load())


def test_decoding_options_and_drop(store):
    got = xr.open_dataset(store, engine=ENGINE, mask_and_scale=False, decode_times=False,
                          drop_variables=["mask"], threads=1, inflight_bytes=1 << 20)
    ref = xr.open_dataset(store, engine="zarr", mask_and_scale=False, decode_times=False,
                          drop_variables=["mask"])
    assert "mask" not in got and got.precip.dtype == np.int16
    xr.testing.assert_identical(got.load(), ref.load())


def test_dask_chunks(store):
    pytest.importorskip("dask")
    got = xr.open_dataset(store, engine=ENGINE, chunks={})
    ref = xr.open_dataset(store, engine="zarr")
    assert got.t2m.chunks is not None
    assert got.t2m.data.chunksize == (4, 12, 12)  # the Zarr chunks
    xr.testing.assert_allclose(got.t2m.mean("time").compute(), ref.t2m.mean("time"))


def test_subgroup_and_guess(work_dir):
    ds, enc = make_dataset()
    path = str(work_dir / "root.zarr")
    ds.to_zarr(path, group="inner/level", encoding=enc)
    got = xr.open_dataset(path, engine=ENGINE, group="inner/level")
    ref = xr.open_dataset(path, engine="zarr", group="inner/level")
    xr.testing.assert_identical(got.load(), ref.load())
    assert LsioBackendEntrypoint().guess_can_open(path)
    assert not LsioBackendEntrypoint().guess_can_open(str(work_dir / "x.nc"))
    with pytest.raises(FileNotFoundError):
        xr.open_dataset(str(work_dir / "missing.zarr"), engine=ENGINE)


def test_v3_dimension_names(work_dir):
    """A hand-written v3 group: dims from dimension_names, values from numpy."""
    root = work_dir / "v3.zarr"
    root.mkdir()
    (root / "zarr.json").write_text(json.dumps(
        {"zarr_format": 3, "node_type": "group", "attributes": {"source": "hand"}}))
    x = np.arange(1, 6 * 8 + 1, dtype="<f8").reshape(6, 8) / 4  # no 0: the fill value
    y = np.arange(1, 7, dtype="<i4") * 100

    def array(name, data, chunks, dims, attrs):
        d = root / name
        d.mkdir()
        (d / "zarr.json").write_text(json.dumps({
            "zarr_format": 3, "node_type": "array", "shape": list(data.shape),
            "data_type": {"<f8": "float64", "<i4": "int32"}[data.dtype.str],
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "attributes": attrs, "dimension_names": dims}))
        import itertools
        for idx in itertools.product(*[range(-(-n // c)) for n, c in zip(data.shape, chunks)]):
            block = np.zeros(chunks, dtype=data.dtype)
            sl = tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, chunks))
            part = data[sl]
            block[tuple(slice(0, n) for n in part.shape)] = part
            p = d / "c" / os.path.join(*map(str, idx))
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(block.tobytes())

    array("field", x, (4, 3), ["y", "x"], {"units": "m"})
    array("y", y, (6,), ["y"], {})
    ds = xr.open_dataset(str(root), engine=ENGINE)
    assert ds.field.dims == ("y", "x") and ds.attrs == {"source": "hand"}
    assert ds.field.attrs == {"units": "m"} and "y" in ds.coords
    np.testing.assert_array_equal(ds.field.values, x)
    np.testing.assert_array_equal(ds.y.values, y)
    np.testing.assert_array_equal(ds.field.sel(y=300).values, x[2])


def test_engine_name_when_installed(store):
    if "lsio" not in xr.backends.list_engines():
        pytest.skip("the 'lsio' entry point is registered only by an installed package "
                    "(pip install ./python); the build tree is tested with the class")
    xr.testing.assert_identical(xr.open_dataset(store, engine="lsio").load(),
                                xr.open_dataset(store, engine="zarr").load())


@pytest.mark.parametrize("mask_and_scale", [True, False])
def test_float_fill_masked_while_reading(work_dir, mask_and_scale):
    """Float variables with a fill value are masked by the backend, in
    place, as they are read (not by xarray with a copy); the dataset equals
    the zarr engine's: values, attributes and encoding, whole, sliced and
    through dask; packed variables (scale_factor) stay xarray's to decode."""
    from lsio.xarray_backend import LsioDataStore
    rng = np.random.default_rng(3)
    sst = rng.standard_normal((6, 20, 30)).astype("f4")
    sst[:, :3, :4] = -999.0
    sst[2, 5, 5] = np.nan
    wind = rng.standard_normal((6, 20, 30))
    wind[0, 0, :] = 0.0
    ds = xr.Dataset({"sst": (("t", "y", "x"), sst), "wind": (("t", "y", "x"), wind),
                     "packed": (("t", "y", "x"), wind * 3)})
    path = str(work_dir / "fill.zarr")
    ds.to_zarr(path, encoding={"sst": {"_FillValue": -999.0, "chunks": (2, 10, 10)},
                               "wind": {"_FillValue": 0.0, "chunks": (3, 20, 15)},
                               "packed": {"_FillValue": 0.0, "scale_factor": 0.5,
                                          "dtype": "f8"}})
    kw = dict(mask_and_scale=mask_and_scale)
    ref = xr.open_dataset(path, engine="zarr", **kw)
    got = xr.open_dataset(path, engine=ENGINE, **kw)
    xr.testing.assert_identical(got.load(), ref.load())
    for v in ("sst", "wind", "packed"):
        assert got[v].encoding.get("_FillValue") == ref[v].encoding.get("_FillValue"), v
        assert got[v].attrs == ref[v].attrs, v
    if mask_and_scale:
        assert np.isnan(got.sst.values[:, :3, :4]).all()
    sel = dict(t=slice(1, 4), y=slice(2, 17, 3), x=7)
    ref2 = xr.open_dataset(path, engine="zarr", **kw)
    got2 = xr.open_dataset(path, engine=ENGINE, **kw)
    xr.testing.assert_identical(got2.isel(sel).load(), ref2.isel(sel).load())
    got3 = xr.open_dataset(path, engine=ENGINE, chunks={"t": 2}, **kw)
    xr.testing.assert_identical(got3.load(), ref2.load())
    # the backend's own variables: masked ones carry _FillValue in the encoding
    st = LsioDataStore.open(path, mask=mask_and_scale)
    raw = st.get_variables()
    assert ("_FillValue" in raw["sst"].attrs) != mask_and_scale
    assert "_FillValue" in raw["packed"].attrs  # scale_factor: xarray decodes it
    st.close()
    for x in (ref, got, ref2, got2, got3):
        x.close()
