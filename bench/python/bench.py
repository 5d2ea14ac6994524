#!/usr/bin/python3
"""bench/python/bench.py — the lsio Python package against zarr-python 2.13
and xarray's own zarr engine, side by side in one process.

Data: the float32 array of bench/zarr (its `lz4` copy: blosc lz4 + shuffle,
(256, 1024, 1024) = 1 GiB in chunks (16, 256, 256); --quick: (32, 256, 256)
in chunks (8, 128, 128)), written by bench/zarr's own writer when missing.
For xarray it is wrapped, without copying, in a group (data/bench-python/
[quick/]ds.zarr: the array's chunk files linked, `_ARRAY_DIMENSIONS`
(time, y, x), a `time` coordinate, consolidated metadata).

Workloads (page cache warm; the median of --repeat runs after one warm-up;
xarray datasets opened with cache=False so that every run reads):
  full read      zarr-python z[:]          vs  lsio a[:]
                 xarray zarr ds.t.values   vs  xarray lsio ds.t.values
  random crops   1000 crops (4, 64, 64) at seeded random origins:
                 zarr-python, one z[...] per crop  vs  one lsio read_many
  sel + mean     ds.t.sel(time=k).values, then ds.t.mean(("y", "x")).values
                 over the whole array: xarray engine "zarr" vs "lsio"
  RandomCrops    an epoch of --batches batches of --batch-size crops
                 (4, 64, 64): lsio.ml.RandomCrops (prefetch 1) with no work
                 and with a 10 ms training step (sleep), against the same
                 crops read by zarr-python in the loop. Target: batches
                 delivered faster than a 10 ms step consumes them (>= 100/s).

  bench/python/bench.py [--quick] [--repeat N] [--idle S] [--crops N] [--batches N]
                        [--batch-size N] [--threads N] [--json FILE]

Speed-up targets (issue 6): >= 3x on full reads, >= 5x on random crops.
The full read also prints bench/zarr's codec bound (numcodecs' decode of
the chunks, one thread, x cores) and the speed-up a read at that bound
would have; and the decode-then-copy rate (each chunk read from the page
cache, decoded whole and copied into its place), which LSIO's blosc reads
pass by unshuffling blocks straight into place. Neither is a limit for
LSIO.
"""
import argparse
import importlib.machinery
import importlib.util
import json
import os
import statistics
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "python"))

import numpy as np  # noqa: E402


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def bench_zarr_module():
    """bench/zarr (a script without .py) as a module: its geometry and writer."""
    path = os.path.join(TOP, "bench", "zarr")
    loader = importlib.machinery.SourceFileLoader("bench_zarr", path)
    spec = importlib.util.spec_from_loader("bench_zarr", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def ensure_data(quick):
    bz = bench_zarr_module()
    geom = bz.QUICK if quick else bz.FULL
    data = os.path.join(TOP, "data", "bench", "quick" if quick else "")
    ns = argparse.Namespace(data=os.path.normpath(data), copies=["lz4"])
    bz.ensure_data(ns, geom)
    src = os.path.join(ns.data, "lz4.zarr")
    dsdir = os.path.join(TOP, "data", "bench-python", "quick" if quick else "", "ds.zarr")
    done = os.path.join(dsdir, ".bench-complete")
    if not os.path.exists(done):
        import shutil

        import zarr
        shutil.rmtree(dsdir, ignore_errors=True)
        root = zarr.open_group(dsdir, mode="w")
        t = os.path.join(dsdir, "t")
        os.makedirs(t)
        shutil.copy(os.path.join(src, ".zarray"), t)
        with open(os.path.join(t, ".zattrs"), "w") as f:
            json.dump({"_ARRAY_DIMENSIONS": ["time", "y", "x"], "units": "K"}, f)
        for name in os.listdir(src):
            if not name.startswith("."):
                os.symlink(os.path.join(src, name), os.path.join(t, name))
        tc = root.create_dataset("time", data=np.arange(geom["shape"][0], dtype="i8"))
        tc.attrs["_ARRAY_DIMENSIONS"] = ["time"]
        zarr.consolidate_metadata(dsdir)
        open(done, "w").close()
    return geom, src, dsdir


IDLE = 0.0  # --idle: seconds to sleep before each timed run


def timed(fn, repeat):
    fn()  # warm-up (page cache, imports, thread pools)
    times = []
    for _ in range(repeat):
        if IDLE:
            time.sleep(IDLE)
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    if os.environ.get("BENCH_VERBOSE"):
        log("    runs: " + " ".join(f"{v:.4f}" for v in times))
    return statistics.median(times)


def crop_origins(shape, crop, n, seed=7):
    rng = np.random.default_rng(seed)
    return rng.integers(0, [s - c + 1 for s, c in zip(shape, crop)], size=(n, len(crop)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the small array (a smoke test)")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--crops", type=int, default=1000)
    ap.add_argument("--batches", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=None, help="lsio decode threads")
    ap.add_argument("--idle", type=float, default=0,
                    help="seconds to sleep before each timed run (fresh memory after a "
                         "pause costs more on guests that hand freed memory back)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    global IDLE
    IDLE = args.idle
    repeat = args.repeat or (5 if args.quick else 3)
    nbatches = args.batches or (20 if args.quick else 50)

    import xarray as xr
    import zarr

    import lsio
    import lsio.ml
    from lsio.xarray_backend import LsioBackendEntrypoint

    geom, src, dsdir = ensure_data(args.quick)
    opts = {} if args.threads is None else {"threads": args.threads}
    z = zarr.open_array(src, mode="r")
    a = lsio.open(src, **opts)
    shape = z.shape
    gib = z.nbytes / 2 ** 30
    res = []

    def row(name, peer, t_peer, t_lsio, target=None, unit="s"):
        res.append(dict(workload=name, peer=peer, peer_s=t_peer, lsio_s=t_lsio,
                        speedup=t_peer / t_lsio, target=target))
        log(f"  {name:<28} {peer:<12} {t_peer:8.3f} {unit}  lsio {t_lsio:8.3f} {unit}  "
            f"x{t_peer / t_lsio:.1f}")

    log(f"bench/python: float32 {shape} chunks {z.chunks} ({gib:.2f} GiB), lz4; "
        f"{len(os.sched_getaffinity(0))} cores; repeat {repeat}")
    ref = z[:]
    assert np.array_equal(a[:], ref), "lsio and zarr-python disagree"

    # full read
    row("full read", "zarr-python", timed(lambda: z[:], repeat), timed(lambda: a[:], repeat), 3)
    # bench/zarr's codec bound and decode-then-copy rate (one thread, x
    # cores), and the speed-up of a read at the codec bound
    bound, placed, _ = bench_zarr_module().codec_speed(src, "lz4", geom)
    cores = len(os.sched_getaffinity(0))
    bound *= cores
    placed *= cores
    res[-1]["codec_bound_gib_s"] = bound / 2 ** 30
    res[-1]["placed_bound_gib_s"] = placed / 2 ** 30
    res[-1]["ceiling"] = res[-1]["peer_s"] * bound / z.nbytes
    log(f"  full read: codec bound {bound / 2 ** 30:.2f} GiB/s, lsio at "
        f"{100 * z.nbytes / res[-1]['lsio_s'] / bound:.0f}% of it (decode then copy: "
        f"{placed / 2 ** 30:.2f} GiB/s); speed-up at the bound x{res[-1]['ceiling']:.1f}")
    # cache=False: every .values reads again (xarray would keep the first)
    xz = xr.open_dataset(dsdir, engine="zarr", consolidated=True, cache=False)
    xl = xr.open_dataset(dsdir, engine=LsioBackendEntrypoint, cache=False, **opts)
    row("full read (xarray)", "xarray-zarr", timed(lambda: xz.t.values, repeat),
        timed(lambda: xl.t.values, repeat), 3)

    # random crops
    crop = (4, 64, 64)
    org = crop_origins(shape, crop, args.crops)
    sels = [tuple(slice(int(o), int(o) + c) for o, c in zip(og, crop)) for og in org]
    got = a.read_many(sels)
    assert all(np.array_equal(g, ref[s]) for g, s in zip(got[:50], sels[:50]))
    del got
    row(f"{args.crops} crops {crop}", "zarr-python", timed(lambda: [z[s] for s in sels], repeat),
        timed(lambda: a.read_many(sels), repeat), 5)

    # xarray sel of one time step, and a spatial mean over the whole array
    k = shape[0] // 2
    assert np.array_equal(xl.t.sel(time=k).values, xz.t.sel(time=k).values)
    row("ds.sel(time=k)", "xarray-zarr", timed(lambda: xz.t.sel(time=k).values, repeat),
        timed(lambda: xl.t.sel(time=k).values, repeat))
    row("spatial mean (whole)", "xarray-zarr",
        timed(lambda: xz.t.mean(dim=("y", "x")).values, repeat),
        timed(lambda: xl.t.mean(dim=("y", "x")).values, repeat))
    xz.close()
    xl.close()

    # RandomCrops epoch
    bs = args.batch_size
    rc = lsio.ml.RandomCrops(a, crop, bs, seed=1, batches_per_epoch=nbatches)
    origins = rc.origins(0)

    def zarr_epoch(step=0.0):
        for ob in origins:
            batch = np.empty((bs,) + crop, dtype=z.dtype)
            for i, o in enumerate(ob):
                batch[i] = z[tuple(slice(int(v), int(v) + c) for v, c in zip(o, crop))]
            if step:
                time.sleep(step)

    def lsio_epoch(step=0.0):
        rc.set_epoch(0)
        for _ in rc:
            if step:
                time.sleep(step)

    t_z = timed(zarr_epoch, repeat)
    t_l = timed(lsio_epoch, repeat)
    row(f"RandomCrops {nbatches}x{bs}", "zarr-python", t_z, t_l)
    step = 0.010
    t_ls = timed(lambda: lsio_epoch(step), repeat)
    t_zs = timed(lambda: zarr_epoch(step), repeat)
    lsio_rate, zarr_rate = nbatches / t_l, nbatches / t_z
    stall = max(0.0, t_ls - nbatches * step) / nbatches
    res.append(dict(workload="RandomCrops with 10 ms step", lsio_batches_s=lsio_rate,
                    zarr_batches_s=zarr_rate, lsio_epoch_with_step_s=t_ls,
                    zarr_epoch_with_step_s=t_zs, lsio_stall_per_batch_s=stall,
                    step_s=step, target_batches_s=1 / step))
    log(f"  RandomCrops: lsio {lsio_rate:.0f} batches/s (zarr-python {zarr_rate:.1f}); with a "
        f"10 ms step: lsio epoch {t_ls:.3f} s ({stall * 1e3:.1f} ms stall/batch), zarr-python "
        f"{t_zs:.3f} s; target >= {1 / step:.0f} batches/s: "
        f"{'met' if lsio_rate >= 1 / step else 'NOT met'}")

    print(f"\nbench/python: float32 {shape}, chunks {z.chunks}, blosc lz4"
          f"{' (--quick: small array, figures are noise)' if args.quick else ''}"
          f"{f'; {args.idle:g} s idle before each timed run' if args.idle else ''}")
    print(f"{'workload':<30} {'peer':<12} {'peer s':>9} {'lsio s':>9} {'speed-up':>9} "
          f"{'target':>7}")
    for r in res:
        if "peer" in r:
            tgt = f">={r['target']}x" if r["target"] else ""
            mark = "" if not r["target"] or r["speedup"] >= r["target"] else " <"
            print(f"{r['workload']:<30} {r['peer']:<12} {r['peer_s']:9.4f} {r['lsio_s']:9.4f} "
                  f"{r['speedup']:8.1f}x {tgt:>7}{mark}")
            if r.get("ceiling"):
                print(f"{'':<30} at the codec bound ({r['codec_bound_gib_s']:.2f} GiB/s; "
                      f"decode then copy {r['placed_bound_gib_s']:.2f}): {r['ceiling']:.1f}x")
    r = res[-1]
    print(f"RandomCrops batches/s: lsio {r['lsio_batches_s']:.0f}, zarr-python "
          f"{r['zarr_batches_s']:.1f} (target >= {r['target_batches_s']:.0f}); with a 10 ms "
          f"step lsio stalls {r['lsio_stall_per_batch_s'] * 1e3:.1f} ms/batch")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(shape=shape, chunks=z.chunks, quick=args.quick, idle=args.idle,
                           results=res), f, indent=1)


if __name__ == "__main__":
    main()
