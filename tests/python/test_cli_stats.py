"""`lsio stats`: --json against numpy's nanmin/nanmax/nanmean/nanstd and
isnan count over the same data (written by zarr-python 2.13), whole and
through selections, per data type, with NaNs and missing chunks, thread
counts, the text output, and errors (missing URL, bad selection, corrupt
chunk naming its key, data types without statistics)."""
import json

import numpy as np
import pytest


def write(path, data, chunks, fill=0, compressor="default", **kw):
    import numcodecs
    import zarr
    comp = numcodecs.Blosc(cname="lz4", shuffle=numcodecs.Blosc.SHUFFLE) \
        if compressor == "default" else compressor
    z = zarr.open_array(str(path), mode="w", shape=data.shape, chunks=chunks,
                        dtype=data.dtype, compressor=comp, fill_value=fill, **kw)
    z[...] = data
    return z


def stats_json(lsio_zarr, *args):
    r = lsio_zarr("stats", "--json", *args)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    assert len(lines) == 1, f"--json must print exactly one object: {r.stdout!r}"
    return json.loads(lines[0])


def check(got, ref):
    """got: lsio's object; ref: the numbers as a numpy array."""
    ref = np.asarray(ref)
    isnan = np.isnan(ref) if ref.dtype.kind == "f" else np.zeros(ref.shape, bool)
    good = ref[~isnan]
    assert got["count"] == good.size
    assert got["nan_count"] == int(isnan.sum())
    if good.size == 0:
        assert got["min"] is None and got["max"] is None
        assert got["mean"] is None and got["std"] is None
        return
    assert got["min"] == np.nanmin(ref).item()
    assert got["max"] == np.nanmax(ref).item()
    mean = np.nanmean(ref.astype(np.float64))
    std = np.nanstd(ref.astype(np.float64))
    scale = max(abs(mean), np.nanmax(np.abs(ref.astype(np.float64))), 1e-300)
    assert abs(got["mean"] - mean) <= 1e-12 * scale, (got["mean"], mean)
    assert abs(got["std"] - std) <= 1e-9 * max(std, 1e-300) + 1e-12 * scale, (got["std"], std)
    assert got["bytes"] == ref.size * ref.dtype.itemsize
    assert got["seconds"] >= 0


@pytest.mark.parametrize("dtype", ["<f4", ">f8", "<f2", "<i2", ">i8", "<u8", "|u1", "|b1", "<i4"])
def test_dtypes_vs_numpy(dtype, lsio_zarr, work_dir):
    rng = np.random.default_rng(7)
    dt = np.dtype(dtype)
    shape = (37, 29, 3)
    if dt.kind == "f":
        data = (rng.standard_normal(shape) * 100 + 1e3).astype(dt)
        data[rng.random(shape) < 0.1] = np.nan
    elif dt.kind == "b":
        data = rng.random(shape) < 0.3
    else:
        info = np.iinfo(dt)
        data = rng.integers(info.min, info.max, size=shape, endpoint=True,
                            dtype=dt.newbyteorder("="))
        data = data.astype(dt)
    write(work_dir / "a.zarr", data, (8, 7, 2))
    got = stats_json(lsio_zarr, work_dir / "a.zarr")
    check(got, data)


def test_int64_extremes_exact(lsio_zarr, work_dir):
    data = np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max - 1, 5], dtype="<i8")
    write(work_dir / "a.zarr", data, (2,))
    got = stats_json(lsio_zarr, work_dir / "a.zarr")
    assert got["min"] == int(data.min()) and got["max"] == int(data.max())
    u = np.array([0, 2**64 - 1, 3], dtype="<u8")
    write(work_dir / "u.zarr", u, (2,))
    got = stats_json(lsio_zarr, work_dir / "u.zarr")
    assert got["min"] == 0 and got["max"] == 2**64 - 1


def test_selection_and_missing_chunks(lsio_zarr, work_dir):
    rng = np.random.default_rng(11)
    data = rng.standard_normal((40, 30)).astype("<f8")
    data[5:9, 2] = np.nan
    write(work_dir / "a.zarr", data, (9, 7), fill=np.nan)
    (work_dir / "a.zarr" / "1.1").unlink()  # rows 9:18, cols 7:14 become NaN
    ref = data.copy()
    ref[9:18, 7:14] = np.nan
    check(stats_json(lsio_zarr, work_dir / "a.zarr"), ref)
    for sel, idx in [("3:31:2,::-3", np.s_[3:31:2, ::-3]), ("-1", np.s_[-1]),
                     ("10:12,8", np.s_[10:12, 8])]:
        check(stats_json(lsio_zarr, work_dir / "a.zarr", "--select", sel), ref[idx])


def test_all_nan_and_empty(lsio_zarr, work_dir):
    data = np.full((10, 10), np.nan, dtype="<f4")
    write(work_dir / "a.zarr", data, (5, 5))
    check(stats_json(lsio_zarr, work_dir / "a.zarr"), data)
    got = stats_json(lsio_zarr, work_dir / "a.zarr", "--select", "3:3")
    assert got["count"] == 0 and got["nan_count"] == 0 and got["min"] is None


def test_stable_with_large_offset(lsio_zarr, work_dir):
    # Naive sum-of-squares loses every digit here; Welford/Chan does not.
    rng = np.random.default_rng(3)
    data = (1e9 + rng.standard_normal(200000)).astype("<f8")
    write(work_dir / "a.zarr", data, (7919,))
    got = stats_json(lsio_zarr, work_dir / "a.zarr")
    assert abs(got["std"] - np.std(data)) < 1e-6 * np.std(data)


@pytest.mark.parametrize("threads", ["1", "2", "5"])
def test_threads_and_options(threads, lsio_zarr, work_dir):
    rng = np.random.default_rng(5)
    data = rng.standard_normal((64, 50)).astype("<f4")
    write(work_dir / "a.zarr", data, (8, 8))
    got = stats_json(lsio_zarr, work_dir / "a.zarr", "--threads", threads, "--inflight", "64K")
    check(got, data)


@pytest.mark.parametrize("backend", ["posix", "uring"])
def test_backends(backend, lsio_zarr, work_dir):
    data = np.arange(1000, dtype="<i4").reshape(10, 100)
    write(work_dir / "a.zarr", data, (3, 33))
    r = lsio_zarr("stats", "--json", "--backend", backend, work_dir / "a.zarr")
    if r.returncode != 0 and "unavailable" in r.stderr.lower():
        pytest.skip(f"{backend} unavailable here: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    check(json.loads(r.stdout), data)


def test_text_output(lsio_zarr, work_dir):
    data = np.array([1.0, 2.0, np.nan, 4.0], dtype="<f8")
    write(work_dir / "a.zarr", data, (2,))
    r = lsio_zarr("stats", work_dir / "a.zarr")
    assert r.returncode == 0, r.stderr
    fields = dict(l.split(None, 1) for l in r.stdout.splitlines() if l.strip()
                  and not l.startswith("read "))
    assert fields["count"].strip() == "3" and fields["nan_count"].strip() == "1"
    assert float(fields["min"]) == 1 and float(fields["max"]) == 4
    assert abs(float(fields["mean"]) - 7 / 3) < 1e-8
    assert "GiB/s" in r.stdout
    assert "\r" not in r.stderr  # no progress bar when stderr is not a terminal


def test_errors(lsio_zarr, run_lsio, work_dir):
    missing = work_dir / "none.zarr"
    r = lsio_zarr("stats", missing)
    assert r.returncode == 1 and str(missing) in r.stderr
    data = np.arange(100, dtype="<f4").reshape(10, 10)
    write(work_dir / "a.zarr", data, (5, 5))
    r = lsio_zarr("stats", work_dir / "a.zarr", "--select", "0:3,:,1")
    assert r.returncode != 0
    (work_dir / "a.zarr" / "1.0").write_bytes(b"\x02\x01garbage-not-blosc")
    r = lsio_zarr("stats", "--json", work_dir / "a.zarr")
    assert r.returncode == 1 and "1.0" in r.stderr, r.stderr
    assert r.stdout.strip() == ""
    s = np.array(["a", "b"], dtype="<U3")
    write(work_dir / "s.zarr", s, (2,), fill="")
    r = lsio_zarr("stats", work_dir / "s.zarr")
    assert r.returncode == 1 and "U3" in r.stderr
    assert run_lsio("stats").returncode == 2
    assert run_lsio("stats", work_dir, "--threads", "0").returncode == 2
    assert run_lsio("stats", work_dir, "--backend", "ftp").returncode == 2
    assert run_lsio("stats", work_dir, "--inflight", "lots").returncode == 2


def test_progress_bar_on_a_terminal(lsio_zarr, lsio_bin, work_dir):
    import os
    import pty
    import subprocess
    data = np.arange(4000, dtype="<f4").reshape(40, 100)
    write(work_dir / "a.zarr", data, (4, 10), compressor=None)
    master, slave = pty.openpty()
    p = subprocess.Popen([str(lsio_bin), "stats", "--json", str(work_dir / "a.zarr")],
                         stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = p.communicate(timeout=60)
    err = b""
    try:
        while True:
            b = os.read(master, 4096)
            if not b:
                break
            err += b
    except OSError:
        pass
    os.close(master)
    assert p.returncode == 0
    check(json.loads(out), data)  # stdout stays one JSON object
    assert b"stats [" in err and b"\r" in err, err


@pytest.mark.parametrize("dtype", ["<f4", ">f8"])
@pytest.mark.parametrize("chunks", [(4099,), (8,), (13,), (2048,), (7,)])
def test_float_kernel_lanes_and_tails(dtype, chunks, lsio_zarr, work_dir):
    """The float kernels take 8 values at a time in vector lanes, the rest
    one by one, in blocks of 2048: chunk lengths around those sizes; NaNs
    first in a block, whole blocks of NaN, infinities, -0.0, the extremes
    of float32, and lone values in lanes of NaN."""
    rng = np.random.default_rng(len(chunks) + chunks[0])
    dt = np.dtype(dtype)
    data = (rng.standard_normal(10000) * 50 - 3).astype(dt)
    data[rng.random(data.size) < 0.2] = np.nan
    data[0] = np.nan
    data[2048:4096] = np.nan       # a whole block
    data[4096 + 8 * 5] = -0.0      # a lone value among NaNs
    data[4096:4096 + 8 * 5] = np.nan
    big = np.finfo(dt).max if dt.itemsize == 4 else 1e150  # float64's max**2 overflows
    data[5000] = big
    data[6001] = -big
    data[7000:7003] = [np.nan, 1e-30, np.nan]
    write(work_dir / "f.zarr", data, chunks, fill=np.nan)
    check(stats_json(lsio_zarr, work_dir / "f.zarr"), data)
    for sel in ("1:9999:3", "2040:2060", "4090:4150", "-9:"):
        got = stats_json(lsio_zarr, work_dir / "f.zarr", "--select", sel)
        a, b, *st = (sel.split(":") + [""])[:3]
        ref = data[slice(int(a) if a else None, int(b) if b else None, int(st[0]) if st[0] else None)]
        check(got, ref)
    inf = data.copy()
    inf[123] = np.inf
    inf[9999] = -np.inf
    write(work_dir / "i.zarr", inf, chunks, fill=np.nan)
    got = stats_json(lsio_zarr, work_dir / "i.zarr")
    # JSON has no infinities: the strings Zarr's metadata uses for them
    assert got["min"] == "-Infinity" and got["max"] == "Infinity"
    assert got["count"] == int((~np.isnan(inf)).sum())
    assert got["nan_count"] == int(np.isnan(inf).sum())


INT_DTYPES = ["|i1", "|u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", ">u4",
              "<i8", ">i8", "<u8", ">u8"]


def check_exact(got, data):
    """got against exact integer arithmetic on data (integers), then check()
    (numpy in float64): min/max exact, mean and std to a few ulps."""
    import math
    from fractions import Fraction
    vals = [int(v) for v in np.asarray(data).ravel().tolist()]
    n = len(vals)
    assert got["count"] == n and got["nan_count"] == 0
    assert got["min"] == min(vals) and got["max"] == max(vals)
    s, s2 = sum(vals), sum(v * v for v in vals)
    mean, var = Fraction(s, n), Fraction(n * s2 - s * s, n * n)
    scale = max(abs(min(vals)), abs(max(vals)), 1)
    assert abs(Fraction(got["mean"]) - mean) <= Fraction(1e-14) * scale, (got["mean"], float(mean))
    std = math.sqrt(var)
    assert abs(got["std"] - std) <= 1e-12 * std + 1e-14 * scale, (got["std"], std)
    check(got, np.asarray(data))


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_int_kernel_lanes_and_tails(dtype, lsio_zarr, work_dir):
    """The integer kernels take 32 (8-bit), 16 (16-bit) or 8 (32-, 64-bit)
    values a step in vector lanes, the rest one by one, in blocks of 2048,
    with sums in integer lanes (8-, 16-bit) or double lanes: windows of
    lengths around those sizes at aligned and unaligned starts, blocks
    across chunk edges, arrays all at the minimum or the maximum (the
    largest sums), alternating between them, and a 3-d array with edge
    chunks on every axis; both byte orders."""
    dt = np.dtype(dtype)
    info = np.iinfo(dt)
    lane = {1: 32, 2: 16}.get(dt.itemsize, 8)
    rng = np.random.default_rng(dt.itemsize * 10 + (dt.kind == "u") + (dt.byteorder == ">") * 2)

    def rand(shape):
        return rng.integers(info.min, info.max, size=shape, endpoint=True,
                            dtype=dt.newbyteorder("=")).astype(dt)

    data = rand(9000)
    data[5] = info.min
    data[2048 + lane - 1] = info.max
    data[4099 - 1] = info.min  # the last value of the first chunk: a tail
    write(work_dir / "a.zarr", data, (4099,))
    check_exact(stats_json(lsio_zarr, work_dir / "a.zarr"), data)
    for length in (1, lane - 1, lane, lane + 1, 2 * lane + 3, 2047, 2048, 2049, 4097):
        for start in (0, 3):
            sel = f"{start}:{start + length}"
            check_exact(stats_json(lsio_zarr, work_dir / "a.zarr", "--select", sel),
                        data[start:start + length])
    check_exact(stats_json(lsio_zarr, work_dir / "a.zarr", "--select", "4090:4150"),
                data[4090:4150])

    # the minimum in each lane position of a first step, the maximum in the
    # mirror position of a second one: a window each, among inner values
    w = 2 * lane + 1
    inner = np.clip(rand(lane * w), info.min + 1, info.max - 1).astype(dt)
    for r in range(lane):
        inner[r * w + r] = info.min
        inner[r * w + 2 * lane - 1 - r] = info.max
    write(work_dir / "p.zarr", inner, (inner.size,))
    for r in range(lane):
        got = stats_json(lsio_zarr, work_dir / "p.zarr", "--select", f"{r * w}:{(r + 1) * w}")
        assert (got["min"], got["max"]) == (info.min, info.max), (r, got)

    n = 2 * 2048 + lane + 1
    for name, const in (("min", info.min), ("max", info.max)):
        c = np.full(n, const, dtype=dt)
        write(work_dir / f"{name}.zarr", c, (5000,))
        got = stats_json(lsio_zarr, work_dir / f"{name}.zarr")
        assert got["min"] == const and got["max"] == const and got["count"] == n
        assert got["mean"] == float(const) and got["std"] == 0.0, got
    alt = np.array([info.min, info.max], dtype=dt)[np.arange(n) % 2]
    write(work_dir / "alt.zarr", alt, (5000,))
    check_exact(stats_json(lsio_zarr, work_dir / "alt.zarr"), alt)

    cube = rand((23, 37, 41))
    write(work_dir / "c.zarr", cube, (8, 16, 36), compressor=None)
    check_exact(stats_json(lsio_zarr, work_dir / "c.zarr"), cube)
    check_exact(stats_json(lsio_zarr, work_dir / "c.zarr", "--select", "3:20,5:36,1:40"),
                cube[3:20, 5:36, 1:40])


def test_same_digits_every_run(lsio_zarr, work_dir):
    """Chunks finish in a different order each run; their results are
    merged in the chunks' own order, so mean and std come out the same to
    the last digit every time (floating-point merging is not associative:
    merged as they finished, the last digits moved between runs)."""
    rng = np.random.default_rng(11)
    data = (np.cumsum(rng.standard_normal((64, 48, 40)), axis=0) * 1e3 + 7e5).astype("<f8")
    data[rng.random(data.shape) < 0.01] = np.nan
    write(work_dir / "a.zarr", data, (4, 8, 10))  # 16 x 6 x 4 = 384 chunks
    seen = set()
    for i in range(8):
        threads = "5" if i % 2 else "2"
        got = stats_json(lsio_zarr, work_dir / "a.zarr", "--threads", threads)
        check(got, data)
        seen.add((repr(got["mean"]), repr(got["std"])))
    assert len(seen) == 1, seen
    # a selection too (a different set of chunks, its own order)
    sel = set()
    for i in range(6):
        got = stats_json(lsio_zarr, work_dir / "a.zarr", "--select", "::-3,5:,:", "--threads", "3")
        sel.add((repr(got["mean"]), repr(got["std"])))
    assert len(sel) == 1, sel
