/*
 * _lsio.h — what the sources of the lsio._lsio extension module share.
 *
 * The module is a thin CPython layer over the C API (lsio_zarr.h for arrays
 * and groups, lsio_io.h for the raw reads of lsio.zarr.Store): numpy arrays
 * are allocated here and LSIO decodes straight into their memory with the
 * GIL released.
 *
 * Objects and lifetimes:
 *   Backend  an open lsio_io (plus an optional private lsio_pool and the
 *            in-flight budget); shared by every Array and Group opened from
 *            it and freed when the last of them lets go (Python refcounts).
 *   Array    an lsio_zarr_array; holds its Backend.
 *   Group    an lsio_zarr_group opened over its Backend's io (io_handle), so
 *            that members and subgroups share one backend.
 * Closing an Array or Group while another thread reads through it is safe:
 * the C handle is freed when the last read in progress returns (a busy
 * count changed only with the GIL held).
 *
 * fork(): a child has none of the parent's IO and pool threads, so an
 * Array or Group used in a child (PyTorch DataLoader workers, multiprocessing
 * with fork) first reopens itself there by URL with the same options; the
 * parent's handles are left alone in the child (never closed there).
 */
#ifndef LSIO_PY_H
#define LSIO_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL lsio_py_ARRAY_API
#ifndef LSIO_PY_MAIN
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include <sys/types.h>
#include <unistd.h>

#include "lsio_base.h"
#include "lsio_io.h"
#include "lsio_pool.h"
#include "lsio_zarr.h"

typedef struct {
    PyObject_HEAD
    lsio_io *io;
    lsio_pool *pool;  /* owned; NULL: lsio_pool_default() */
    size_t inflight;  /* lsio_zarr_opts.inflight_bytes */
    PyObject *url;    /* str: the location it was opened for */
    PyObject *kwargs; /* dict: the options, to reopen elsewhere (pickling) */
    pid_t pid;        /* the process that opened it (its threads live there) */
} LsioBackend;

typedef int (*lsio_py_open_fn)(void **handle, const char *url, const lsio_zarr_opts *o);
typedef void (*lsio_py_close_fn)(void *handle);
typedef struct lsio_py_kind lsio_py_kind;

/* What an Array and a Group share, first in both (so either is an
 * LsioHandle): an LSIO handle over a backend. A call made without the GIL
 * holds it (busy); close() marks it closed and it goes when no call holds
 * it. In a forked child it is reopened over a new backend first. */
#define LSIO_PY_HANDLE_HEAD                                                    \
    PyObject_HEAD                                                              \
    union {                                                                    \
        void *h;                                                               \
        lsio_zarr_array *a;                                                    \
        lsio_zarr_group *g;                                                    \
    };                                                                         \
    LsioBackend *backend;                                                      \
    PyObject *url;             /* str */                                       \
    int busy;                  /* calls in progress that hold the handle */    \
    int closed;                /* close() was called */                        \
    const lsio_py_kind *kind;

typedef struct {
    LSIO_PY_HANDLE_HEAD
} LsioHandle;

struct lsio_py_kind {
    const char *what;          /* "array", "group" (messages) */
    lsio_py_open_fn open;      /* open by URL over a backend */
    lsio_py_close_fn close;
    void (*changed)(LsioHandle *s); /* after h was replaced or dropped; or NULL */
};

/* 0 when open, else -1 with ValueError. */
int lsio_py_check_open(LsioHandle *s);
/* Open, and reopened in a forked child: 0, else -1 with an exception. */
int lsio_py_ready(LsioHandle *s);
/* lsio_py_ready, then hold the handle until lsio_py_leave. */
int lsio_py_enter(LsioHandle *s);
void lsio_py_leave(LsioHandle *s);
/* Drop the handle and the backend (dealloc; close when idle). */
void lsio_py_release(LsioHandle *s);
/* The methods close(), __enter__(), __exit__() and the `closed` getter. */
PyObject *lsio_py_close(PyObject *s, PyObject *unused);
PyObject *lsio_py_ctx_enter(PyObject *s, PyObject *unused);
PyObject *lsio_py_ctx_exit(PyObject *s, PyObject *args);
PyObject *lsio_py_get_closed(PyObject *s, void *unused);

typedef struct {
    LSIO_PY_HANDLE_HEAD
    const lsio_zarr_info *info;
    PyArray_Descr *descr; /* output dtype (object for STRING) */
    int is_string;
    size_t itemsize;
    PyObject *attrs, *codecs; /* cached */
} LsioArray;

typedef struct {
    LSIO_PY_HANDLE_HEAD
    PyObject *members; /* tuple of str */
    PyObject *kinds;   /* tuple of "array" / "group", parallel to members */
    PyObject *attrs;   /* cached dict */
} LsioGroup;

extern PyTypeObject LsioBackend_Type;
extern PyTypeObject LsioArray_Type;
extern PyTypeObject LsioGroup_Type;
extern PyObject *lsio_py_Error;     /* lsio.Error */
extern PyObject *lsio_py_json_loads; /* json.loads */

/* Set the Python exception for LSIO error rc (negative) with this thread's
 * last LSIO message (else `what` and the error's name) and return NULL.
 * -ENOENT: FileNotFoundError; -LSIO_ESELECTION, -EINVAL: ValueError;
 * -ENOMEM: MemoryError; anything else: lsio.Error. Each gets .errno = -rc
 * and .code = lsio_strerror(rc). */
PyObject *lsio_py_raise(int rc, const char *what);
/* Same with an explicit message. */
PyObject *lsio_py_raise_msg(int rc, const char *msg);

/* Open a Backend for url with the keyword options of lsio.open (threads,
 * inflight_bytes, backend, io_workers, direct, region, endpoint, profile,
 * anonymous). kwargs may be NULL. New reference or NULL with an exception. */
LsioBackend *lsio_py_backend_open(PyObject *url, PyObject *kwargs);
/* A new Backend like b (same options) for url when b was opened by another
 * process (before a fork); NULL with no exception when b is this process's
 * own, NULL with an exception on failure. */
LsioBackend *lsio_py_backend_after_fork(const LsioBackend *b, PyObject *url);
/* lsio_zarr_opts that share b's io and pool. */
void lsio_py_backend_opts(const LsioBackend *b, lsio_zarr_opts *o);
/* The two open functions (lsio_zarr_open, lsio_zarr_group_open). */
int lsio_py_open_array(void **handle, const char *url, const lsio_zarr_opts *o);
int lsio_py_open_group(void **handle, const char *url, const lsio_zarr_opts *o);
/* Open url over b with the GIL released: 0, or -1 with the exception set. */
int lsio_py_open_over(LsioBackend *b, const char *url, lsio_py_open_fn open_fn, void **handle);

/* Wrap an open lsio_zarr_array (taken over, closed on failure) into an
 * Array holding backend. */
PyObject *lsio_py_array_new(lsio_zarr_array *a, LsioBackend *backend);
/* Open the group at url (str) over backend. */
PyObject *lsio_py_group_new(PyObject *url, LsioBackend *backend);

/* _select.c: turn a key (numpy-style, a text selection, or None for
 * everything) into sel for array s (-1 with IndexError / ValueError set);
 * the output shape of sel (returns ndim); a new output array for sel, or
 * the caller's out after checking it (new reference, NULL on error). */
int lsio_py_key_to_sel(LsioArray *s, PyObject *key, lsio_selection *sel);
unsigned lsio_py_sel_dims(const lsio_selection *sel, npy_intp *dims);
PyArrayObject *lsio_py_output_for(LsioArray *s, const lsio_selection *sel, PyObject *out);
/* A new C-order array (steals descr); large ones in recycled memory
 * (_bufcache.c), fresh mappings faulted in on pool (NULL: the default
 * pool) first. New reference, NULL with an exception set. */
PyArrayObject *lsio_py_empty(PyArray_Descr *descr, int nd, npy_intp *dims, lsio_pool *pool);
/* The pool an array's reads run on. */
lsio_pool *lsio_py_array_pool(const LsioArray *s);
/* lsio.buffer_cache(limit=None) -> dict */
PyObject *lsio_py_buffer_cache(PyObject *self, PyObject *args, PyObject *kwargs);

/* json.loads(text) */
PyObject *lsio_py_json(const char *text);

#endif
