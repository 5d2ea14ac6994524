"""Build the lsio Python package: the lsio._lsio extension over the static
LSIO C library, plus the pure-Python modules.

The extension links <build>/liblsio.a, where <build> is $LSIO_BUILD (an
absolute path; default: the repository's build/), and the system libraries
the Makefile's LIBS line names. When the static library is not there it is
built first with `make B=<build> lib`.

  cd python && LSIO_BUILD=$PWD/../build /usr/bin/python3 setup.py -q build_ext --inplace
  pip install --no-build-isolation ./python      (what `make python` and users run)

Only Debian's build dependencies are needed (setuptools, numpy headers).
"""
import glob
import os
import re
import subprocess

import numpy
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BUILD = os.path.abspath(os.environ.get("LSIO_BUILD") or os.path.join(TOP, "build"))
STATIC = os.path.join(BUILD, "liblsio.a")


def makefile_libs():
    """The -l libraries of the Makefile's LIBS line (one list for both)."""
    with open(os.path.join(TOP, "Makefile")) as f:
        for line in f:
            m = re.match(r"\s*LIBS\s*:?=\s*(.*)", line)
            if m:
                return [w[2:] for w in m.group(1).split() if w.startswith("-l")]
    raise SystemExit("setup.py: no LIBS line in the Makefile")


def version():
    with open(os.path.join(HERE, "lsio", "__init__.py")) as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


if not os.path.exists(STATIC) and os.path.exists(os.path.join(TOP, "Makefile")):
    subprocess.check_call(["make", "-C", TOP, f"B={BUILD}", "lib"])

lib_dirs = sorted({os.path.dirname(h) for h in glob.glob(os.path.join(TOP, "lib", "*", "*.h"))})
sources = ["lsio/_lsio.c", "lsio/_backend.c", "lsio/_array.c", "lsio/_select.c", "lsio/_group.c",
           "lsio/_bufcache.c"]

ext = Extension(
    "lsio._lsio",
    sources=sources,
    depends=["lsio/_lsio.h", STATIC] + glob.glob(os.path.join(TOP, "lib", "*", "*.h")),
    include_dirs=[numpy.get_include()] + lib_dirs,
    define_macros=[("_GNU_SOURCE", None)],
    extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra"],
    extra_objects=[STATIC],
    libraries=makefile_libs(),
)

setup(
    name="lsio",
    version=version(),
    description="LSIO (Light Speed IO): read Zarr arrays as fast as the hardware allows",
    packages=["lsio"],
    package_data={"lsio": ["py.typed", "*.pyi"]},
    ext_modules=[ext],
    python_requires=">=3.9",
    install_requires=["numpy"],
    entry_points={"xarray.backends": ["lsio = lsio.xarray_backend:LsioBackendEntrypoint"]},
    zip_safe=False,
)
