"""The public surface of the lsio package: every public name has a
docstring, and the type stubs (lsio/__init__.pyi, lsio/_lsio.pyi) name
what the modules really have (and the modules what the stubs promise).
"""
import ast
import inspect
from pathlib import Path

import pytest

from lsio_built import lsio  # skips this module when not built

import lsio.dask  # noqa: E402
import lsio.ml  # noqa: E402
import lsio.zarr  # noqa: E402
import lsio.zarr_store  # noqa: E402

PKG = Path(lsio.__file__).parent


def public(obj):
    return [n for n in dir(obj) if not n.startswith("_")]


def test_docstrings_everywhere():
    import importlib
    missing = []
    mods = [lsio, lsio._lsio, lsio.ml, lsio.dask, lsio.zarr, lsio.zarr_store]
    try:
        mods.append(importlib.import_module("lsio.xarray_backend"))
    except ImportError:  # xarray missing: that module cannot load
        pass
    for mod in mods:
        if not (mod.__doc__ or "").strip():
            missing.append(mod.__name__)
        for n in getattr(mod, "__all__", None) or public(mod):
            obj = getattr(mod, n)
            if not (callable(obj) or isinstance(obj, type)):
                continue
            if not (inspect.getdoc(obj) or "").strip():
                missing.append(f"{mod.__name__}.{n}")
            if isinstance(obj, type) and obj.__module__.startswith("lsio"):
                for m, attr in vars(obj).items():
                    if m.startswith("_") or not (callable(attr) or hasattr(attr, "__get__")):
                        continue
                    if isinstance(attr, (str, tuple, int)):
                        continue
                    if not (getattr(attr, "__doc__", None) or "").strip():
                        missing.append(f"{mod.__name__}.{n}.{m}")
    assert not missing, f"public names without a docstring: {sorted(set(missing))}"


def stub_names(path, cls=None):
    tree = ast.parse(path.read_text())
    body = tree.body
    if cls:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == cls).body
    names = set()
    for n in body:
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            names.add(n.target.id)
        elif isinstance(n, ast.ImportFrom) and n.level > 0:  # re-exports, not typing
            names.update(a.asname or a.name for a in n.names)
    return names


def test_stubs_match_the_extension():
    ext = PKG / "_lsio.pyi"
    declared = {n for n in stub_names(ext) if not n.startswith("_")} - {"Key", "Selection"}
    assert declared == set(public(lsio._lsio)), (declared ^ set(public(lsio._lsio)))
    for cls in ("Array", "Group", "Backend"):
        declared = {n for n in stub_names(ext, cls) if not n.startswith("_")}
        real = set(public(getattr(lsio._lsio, cls)))
        assert declared == real, (cls, declared ^ real)


def test_stubs_match_the_package():
    declared = {n for n in stub_names(PKG / "__init__.pyi") if not n.startswith("_")}
    declared -= {"Selection"}
    real = {n for n in public(lsio) if not inspect.ismodule(getattr(lsio, n))}
    assert declared == real, declared ^ real
    assert (PKG / "py.typed").exists()
