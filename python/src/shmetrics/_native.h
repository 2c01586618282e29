/* SPDX-License-Identifier: MIT */
/*
 * python/src/shmetrics/_native.h - what the files of the extension share:
 * the child object (_series.c) that the family (_native.c) makes.
 */
#ifndef SHMETRICS_PY_NATIVE_H
#define SHMETRICS_PY_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <shmetrics.h>

#if PY_VERSION_HEX < 0x030A00F0 /* Py_NewRef is 3.10+ */
static inline PyObject *compat_newref(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
#define Py_NewRef(o) compat_newref((PyObject *)(o))
#endif

/* A child: one series of a family, held by value. */
typedef struct {
    PyObject_HEAD struct shmet_series s;
    int last; /* a gauge in SHMET_GAUGE_LAST mode: only set() makes sense */
} SeriesObject;

/* The child types, one per metric type (_series.c). */
extern PyTypeObject CounterSeriesType, GaugeSeriesType, HistogramSeriesType;

/* The Python context managers the children's time(), track_inprogress()
 * and count_exceptions() return (metrics.py registers them). */
void native_set_helpers(PyObject *timer, PyObject *inprogress, PyObject *exceptions);

#endif /* SHMETRICS_PY_NATIVE_H */
