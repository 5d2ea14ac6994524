"""Blosc chunks decoded straight into their place in the output.

A chunk that is not one contiguous piece of the output (rows of a larger
array) has its blosc blocks decompressed and unshuffled straight into the
output's rows, instead of decoding the chunk into scratch and copying it
(lsio_chain_decode_sink, zarr_scatter). Here every such read is compared
with zarr-python 2.13 and with the same read made the ordinary way
(LSIO_NO_DECODE_INTO_PLACE), and the array's `chunks_direct` counter says
which way the chunks went: data types of 1 to 16 bytes, lz4/lz4hc/zstd,
shuffle or none, edge chunks, selections with outer steps, and the cases
that must go the ordinary way (negative steps, F order, bitshuffle,
blosclz, fill masking, several selections at once). Streamed
(non-temporal) stores are forced on with LSIO_STREAM_MIN in a subprocess.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from lsio_built import lsio, read_with_and_without  # skips this module when not built

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")
from numcodecs import Blosc  # noqa: E402
from zarr_data import walk_values as values, write_zarr as write  # noqa: E402


def read_both(path, sel):
    """The read with and without the fast path: (result, direct chunks) each."""
    return read_with_and_without(path, sel, "LSIO_NO_DECODE_INTO_PLACE")


@pytest.mark.parametrize("dtype", ["|u1", "<i2", "<u2", "<f4", "<i4", "<f8", "<i8",
                                   "<c8", "<c16", "|b1"])
@pytest.mark.parametrize("cname,shuffle", [("lz4", Blosc.SHUFFLE),
                                           ("zstd", Blosc.SHUFFLE),
                                           ("lz4hc", Blosc.NOSHUFFLE)])
def test_whole_and_parts_match_zarr(tmp_path, dtype, cname, shuffle):
    data = values((6, 45, 300), dtype, seed=len(dtype) + shuffle)
    # chunks that are rows of the output, edge chunks on every side
    write(tmp_path / "a", data, (3, 16, 128),
          compressor=Blosc(cname=cname, clevel=5, shuffle=shuffle, blocksize=4096))
    z = zarr.open_array(str(tmp_path / "a"), "r")
    sels = [np.s_[...], np.s_[1:6, 3:40, 10:290], np.s_[::2, 5::3, :],
            np.s_[4, :, 100:], np.s_[:, 7, :]]
    for sel in sels:
        (fast, direct), (slow, direct_off) = read_both(tmp_path / "a", sel)
        want = z[sel]
        np.testing.assert_array_equal(fast, want)
        np.testing.assert_array_equal(slow, want)
        if sel == np.s_[...]:
            # no chunk is one piece of the output: the ordinary way copies
            # every one; into place, all but rows under 64 bytes (the
            # 44-element edge chunks of 1-byte types) and chunks blosc
            # stored as they are (nothing to decode)
            assert direct_off == 0
            want = 0
            for key in os.listdir(tmp_path / "a"):
                if key.startswith("."):
                    continue
                stored = (tmp_path / "a" / key).read_bytes()[2] & 0x02
                short = np.dtype(dtype).itemsize == 1 and key.endswith(".2")
                want += not stored and not short
            assert want >= 6
            assert direct == want, (dtype, cname, direct, want)


def test_ordinary_way_where_it_must(tmp_path):
    data = values((6, 40, 256), "<f4")
    shuf = Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)
    write(tmp_path / "c", data, (3, 20, 128), compressor=shuf)
    write(tmp_path / "f", data, (3, 20, 128), compressor=shuf, order="F")
    write(tmp_path / "bit", data, (3, 20, 128),
          compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.BITSHUFFLE))
    write(tmp_path / "blz", data, (3, 20, 128),
          compressor=Blosc(cname="blosclz", clevel=5, shuffle=Blosc.SHUFFLE))
    # negative steps: rows run backwards in the output
    (x, direct), _ = read_both(tmp_path / "c", np.s_[:, :, ::-1])
    np.testing.assert_array_equal(x, data[:, :, ::-1])
    assert direct == 0
    (x, direct), _ = read_both(tmp_path / "c", np.s_[::-1, :, :])
    np.testing.assert_array_equal(x, data[::-1])
    assert direct == 0
    for name in ("f", "bit", "blz"):
        (x, direct), _ = read_both(tmp_path / name, np.s_[...])
        np.testing.assert_array_equal(x, data)
        assert direct == 0, name
    # the C-order one does go into place
    (x, direct), _ = read_both(tmp_path / "c", np.s_[...])
    np.testing.assert_array_equal(x, data)
    assert direct == 2 * 2 * 2
    # several selections at once: the ordinary way, each chunk once
    a = lsio.open(str(tmp_path / "c"))
    got = lsio.read_many(a, [np.s_[0:3], np.s_[2:6]])
    np.testing.assert_array_equal(got[0], data[0:3])
    np.testing.assert_array_equal(got[1], data[2:6])


def test_streamed_stores(tmp_path):
    """With LSIO_STREAM_MIN=0 every placement uses non-temporal stores,
    including the unshuffle into place."""
    data = values((8, 64, 512), "<f4", seed=3)
    write(tmp_path / "s", data, (4, 32, 256),
          compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))
    data8 = values((8, 64, 512), "<f8", seed=4)
    write(tmp_path / "d", data8, (4, 32, 256),
          compressor=Blosc(cname="zstd", clevel=3, shuffle=Blosc.SHUFFLE))
    code = (
        "import sys, numpy as np, zarr\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import lsio\n"
        "for name in ('s', 'd'):\n"
        "    p = sys.argv[2] + '/' + name\n"
        "    z = zarr.open_array(p, 'r')\n"
        "    a = lsio.open(p)\n"
        "    for sel in (np.s_[...], np.s_[1:7, 3:60, 5:500], np.s_[::3, ::2, 7:]):\n"
        "        x = a[sel]\n"
        "        assert np.array_equal(x, z[sel]), (name, sel)\n"
        "    assert a.stats()['chunks_direct'] > 0, name\n"
        "print('ok')\n")
    env = dict(os.environ, LSIO_STREAM_MIN="0")
    env.pop("LSIO_NO_DECODE_INTO_PLACE", None)
    pydir = os.path.dirname(os.path.dirname(lsio.__file__))
    r = subprocess.run(["/usr/bin/python3", "-c", code, pydir, str(tmp_path)],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_damaged_chunk_named(tmp_path):
    """A chunk damaged inside a block fails with the chunk key (the ordinary
    decode reports it), never returns wrong numbers."""
    data = values((4, 32, 256), "<f4", seed=5)
    write(tmp_path / "x", data, (2, 16, 128),
          compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE, blocksize=4096))
    p = tmp_path / "x" / "1.1.0"
    b = bytearray(p.read_bytes())
    for i in range(len(b) // 2, len(b) // 2 + 64):
        b[i] ^= 0x5A
    p.write_bytes(bytes(b))
    a = lsio.open(str(tmp_path / "x"))
    with pytest.raises(lsio.Error, match=r"1\.1\.0"):
        a[...]
    # the undamaged chunks still read into place
    x = a[0:2]
    np.testing.assert_array_equal(x, data[0:2])
    assert a.stats()["chunks_direct"] >= 4
