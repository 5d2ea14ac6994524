"""Integer fill values past 2^53 (int64/uint64 sentinels such as
INT64_MAX), which a JSON parser holding numbers as doubles rounds: missing
chunks must read as the exact fill value zarr-python 2.13 wrote, through
an array's own metadata and through a consolidated group (which falls back
to the array's own file for them), and `lsio info --json` must print the
digits as written. Before, 2^53 + 1 read as 2^53 and INT64_MAX was refused."""
import json

import numpy as np
import pytest

from lsio_built import lsio  # skips this module when not built

zarr = pytest.importorskip("zarr")

CASES = [("<i8", 2**53 + 1), ("<i8", 2**63 - 1), ("<i8", -2**63), ("<i8", 2**53),
         (">i8", -(2**53) - 1), ("<u8", 2**64 - 1), ("<u8", 2**53 + 3), ("<i8", 12345)]


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    root = tmp_path_factory.mktemp("fillbig") / "g.zarr"
    g = zarr.open_group(str(root), mode="w")
    for k, (dt, fv) in enumerate(CASES):
        z = g.create_dataset(f"a{k}", shape=(6,), chunks=(2,), dtype=dt, fill_value=fv)
        z[2:4] = 5  # chunks 0 and 2 stay missing: the fill value
    zarr.consolidate_metadata(str(root))
    return root


@pytest.mark.parametrize("k", range(len(CASES)))
def test_exact_fill(group, k):
    dt, fv = CASES[k]
    ref = zarr.open_array(str(group / f"a{k}"), mode="r")[:]
    assert ref[0] == fv
    got = lsio.open(group / f"a{k}")[:]
    assert got.tolist() == ref.tolist()
    g = lsio.open_group(group)
    assert g[f"a{k}"][:].tolist() == ref.tolist()


@pytest.mark.parametrize("k", [0, 1, 5])
def test_info_json_digits(group, lsio_zarr, k):
    r = lsio_zarr("info", "--json", group / f"a{k}")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["fill_value"] == CASES[k][1]


def test_out_of_range_refused(tmp_path):
    """A fill value that does not fit the type is an error naming it."""
    p = tmp_path / "bad.zarr"
    p.mkdir()
    (p / ".zarray").write_text(json.dumps({
        "zarr_format": 2, "shape": [4], "chunks": [2], "dtype": "<i8", "compressor": None,
        "fill_value": 0, "filters": None, "order": "C"}).replace('"fill_value": 0',
                                                                 '"fill_value": 9223372036854775808'))
    with pytest.raises(lsio.Error, match="fill value 9223372036854775808"):
        lsio.open(p)
    (p / ".zarray").write_text((p / ".zarray").read_text().replace(
        "9223372036854775808", "-18446744073709551615"))
    with pytest.raises(lsio.Error, match="fill value"):
        lsio.open(p)
    assert np.iinfo(np.int64).max == 2**63 - 1
