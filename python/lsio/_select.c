/*
 * _select.c — numpy-style keys to LSIO selections, and the output arrays
 * they read into, for the Array type of lsio._lsio (_array.c).
 *
 * A key (ints, slices with steps, negative indices, one Ellipsis, or a
 * tuple of them) becomes an lsio_selection through Python's own slice
 * arithmetic (PySlice_AdjustIndices), so shapes and values match numpy's
 * exactly; an int out of range raises IndexError as numpy does. Text keys
 * ("0:10, ::2") go to the C parser (lsio_selection_parse). A caller's out
 * array is checked for dtype (TypeError), shape, C order and writability
 * (ValueError) before LSIO writes into its memory.
 */
#include "_lsio.h"

#include <string.h>

static int is_ellipsis(PyObject *o) { return o == Py_Ellipsis; }

/* Turn a numpy-style key into sel. -1 with an exception on failure. */
int lsio_py_key_to_sel(LsioArray *s, PyObject *key, lsio_selection *sel)
{
    const lsio_zarr_info *in = s->info;
    unsigned ndim = in->ndim;
    if (key == Py_None) {
        lsio_selection_all(sel, ndim, in->shape);
        return 0;
    }
    if (PyUnicode_Check(key)) {
        const char *t = PyUnicode_AsUTF8(key);
        if (!t)
            return -1;
        int rc = lsio_selection_parse(t, ndim, in->shape, sel);
        if (rc < 0) {
            lsio_py_raise(rc, t);
            return -1;
        }
        return 0;
    }
    PyObject *items = PyTuple_Check(key) ? (Py_INCREF(key), key) : PyTuple_Pack(1, key);
    if (!items)
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(items), nell = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        nell += is_ellipsis(PyTuple_GET_ITEM(items, i));
    if (nell > 1) {
        PyErr_SetString(PyExc_IndexError, "an index can only have a single ellipsis ('...')");
        goto fail;
    }
    if (n - nell > (Py_ssize_t)ndim) {
        PyErr_Format(PyExc_IndexError,
                     "too many indices for array: array is %u-dimensional, but %zd were indexed",
                     ndim, n - nell);
        goto fail;
    }
    memset(sel, 0, sizeof *sel);
    sel->ndim = ndim;
    unsigned d = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *it = PyTuple_GET_ITEM(items, i);
        if (is_ellipsis(it)) {
            unsigned fill = ndim - (unsigned)(n - 1);
            for (unsigned k = 0; k < fill; k++, d++)
                sel->dim[d] = (lsio_dim_sel){0, 1, in->shape[d], 0};
            continue;
        }
        Py_ssize_t len = (Py_ssize_t)in->shape[d];
        if (PySlice_Check(it)) {
            Py_ssize_t start, stop, step;
            if (PySlice_Unpack(it, &start, &stop, &step) < 0)
                goto fail;
            Py_ssize_t cnt = PySlice_AdjustIndices(len, &start, &stop, step);
            sel->dim[d] = (lsio_dim_sel){cnt ? start : 0, step, (uint64_t)cnt, 0};
        } else if (!PyBool_Check(it) && !PyArray_IsScalar(it, Bool) && PyIndex_Check(it)) {
            Py_ssize_t v = PyNumber_AsSsize_t(it, PyExc_IndexError);
            if (v == -1 && PyErr_Occurred())
                goto fail;
            Py_ssize_t w = v < 0 ? v + len : v;
            if (w < 0 || w >= len) {
                PyErr_Format(PyExc_IndexError, "index %zd is out of bounds for axis %u with size %zd",
                             v, d, len);
                goto fail;
            }
            sel->dim[d] = (lsio_dim_sel){w, 1, 1, 1};
        } else {
            PyErr_Format(PyExc_IndexError,
                         "only integers, slices (`:`) and ellipsis (`...`) are valid indices "
                         "of an lsio array (got %.100s)",
                         Py_TYPE(it)->tp_name);
            goto fail;
        }
        d++;
    }
    for (; d < ndim; d++)
        sel->dim[d] = (lsio_dim_sel){0, 1, in->shape[d], 0};
    Py_DECREF(items);
    return 0;
fail:
    Py_DECREF(items);
    return -1;
}

unsigned lsio_py_sel_dims(const lsio_selection *sel, npy_intp *dims)
{
    uint64_t sh[LSIO_ZARR_MAX_DIMS];
    unsigned nd = lsio_selection_shape(sel, sh);
    for (unsigned i = 0; i < nd; i++)
        dims[i] = (npy_intp)sh[i];
    return nd;
}

static PyObject *dims_tuple(unsigned nd, const npy_intp *dims)
{
    PyObject *t = PyTuple_New(nd);
    for (unsigned i = 0; t && i < nd; i++) {
        PyObject *v = PyLong_FromSsize_t(dims[i]);
        if (!v) {
            Py_CLEAR(t);
            break;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

/* A new output array for sel, or the caller's `out` after checking it.
 * New reference. */
PyArrayObject *lsio_py_output_for(LsioArray *s, const lsio_selection *sel, PyObject *out)
{
    npy_intp dims[LSIO_ZARR_MAX_DIMS];
    unsigned nd = lsio_py_sel_dims(sel, dims);
    if (!out || out == Py_None) {
        Py_INCREF(s->descr);
        return lsio_py_empty(s->descr, (int)nd, dims, lsio_py_array_pool(s));
    }
    if (!PyArray_Check(out)) {
        PyErr_Format(PyExc_TypeError, "out must be a numpy.ndarray, not %.100s",
                     Py_TYPE(out)->tp_name);
        return NULL;
    }
    PyArrayObject *o = (PyArrayObject *)out;
    if (!PyArray_EquivTypes(PyArray_DESCR(o), s->descr)) {
        PyErr_Format(PyExc_TypeError, "out has dtype %S but the array reads as %S",
                     (PyObject *)PyArray_DESCR(o), (PyObject *)s->descr);
        return NULL;
    }
    int same = PyArray_NDIM(o) == (int)nd;
    for (unsigned i = 0; same && i < nd; i++)
        same = PyArray_DIMS(o)[i] == dims[i];
    if (!same) {
        PyObject *want = dims_tuple(nd, dims);
        PyObject *have = dims_tuple((unsigned)PyArray_NDIM(o), PyArray_DIMS(o));
        if (want && have)
            PyErr_Format(PyExc_ValueError, "out has shape %S but the selection has shape %S", have,
                         want);
        Py_XDECREF(want);
        Py_XDECREF(have);
        return NULL;
    }
    if (!PyArray_IS_C_CONTIGUOUS(o)) {
        PyErr_SetString(PyExc_ValueError, "out must be C-contiguous");
        return NULL;
    }
    if (!PyArray_ISWRITEABLE(o)) {
        PyErr_SetString(PyExc_ValueError, "out is read-only");
        return NULL;
    }
    Py_INCREF(o);
    return o;
}

