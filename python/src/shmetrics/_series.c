/* SPDX-License-Identifier: MIT */
/*
 * python/src/shmetrics/_series.c - the children: CounterSeries,
 * GaugeSeries and HistogramSeries (see _native.c for why they are exact C
 * types). inc()/observe() are METH_FASTCALL straight into the inline
 * recorders of shmetrics.h.
 */
#include "_native.h"

#include <math.h>
#include <time.h>


/* Python helpers (metrics.py): timer(callable), inprogress(gauge) and
 * exceptions(counter, exception) return the context manager/decorator. */
static PyObject *h_timer, *h_inprogress, *h_exceptions;

void native_set_helpers(PyObject *timer, PyObject *inprogress, PyObject *exceptions)
{
    Py_XSETREF(h_timer, Py_NewRef(timer));
    Py_XSETREF(h_inprogress, Py_NewRef(inprogress));
    Py_XSETREF(h_exceptions, Py_NewRef(exceptions));
}

static PyObject *call_helper(PyObject *helper, PyObject *a, PyObject *b)
{
    if (helper == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "shmetrics.metrics is not initialised");
        return NULL;
    }
    return PyObject_CallFunctionObjArgs(helper, a, b, NULL);
}

/* A bound method of self by name, for the timer helper. */
static PyObject *bound(PyObject *self, const char *name)
{
    return PyObject_GetAttrString(self, name);
}

static PyObject *last_mode(const char *what)
{
    PyErr_Format(PyExc_RuntimeError, "%s must not be used with the mostrecent mode", what);
    return NULL;
}

/* amount from args[0], or dflt when absent; -1 with an exception set. */
static int amount_arg(PyObject *const *args, Py_ssize_t nargs, double dflt, double *out)
{
    if (nargs == 0) {
        *out = dflt;
        return 0;
    }
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "expected at most one argument");
        return -1;
    }
    *out = PyFloat_AsDouble(args[0]);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

static PyObject *counter_inc(SeriesObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double v;

    if (nargs == 0) { /* the hot path: one inline record */
        shmet_inc(self->s);
        Py_RETURN_NONE;
    }
    if (amount_arg(args, nargs, 1.0, &v) < 0)
        return NULL;
    if (!(v >= 0)) { /* NaN too */
        PyErr_SetString(PyExc_ValueError,
                        "Counters can only be incremented by non-negative amounts.");
        return NULL;
    }
    shmet_add(self->s, v);
    Py_RETURN_NONE;
}

static PyObject *gauge_inc(SeriesObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double v;

    if (self->last)
        return last_mode("inc");
    if (amount_arg(args, nargs, 1.0, &v) < 0)
        return NULL;
    shmet_add(self->s, v);
    Py_RETURN_NONE;
}

static PyObject *gauge_dec(SeriesObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double v;

    if (self->last)
        return last_mode("dec");
    if (amount_arg(args, nargs, 1.0, &v) < 0)
        return NULL;
    shmet_add(self->s, -v);
    Py_RETURN_NONE;
}

static PyObject *gauge_set(SeriesObject *self, PyObject *arg)
{
    double v = PyFloat_AsDouble(arg);

    if (v == -1.0 && PyErr_Occurred())
        return NULL;
    shmet_set(self->s, v);
    Py_RETURN_NONE;
}

static PyObject *hist_observe(SeriesObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double v;

    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "observe() takes exactly one argument");
        return NULL;
    }
    if (PyFloat_CheckExact(args[0])) {
        v = PyFloat_AS_DOUBLE(args[0]);
    } else if ((v = PyFloat_AsDouble(args[0])) == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    shmet_observe(self->s, v);
    Py_RETURN_NONE;
}

static PyObject *counter_count_exceptions(SeriesObject *self, PyObject *const *args,
                                          Py_ssize_t nargs)
{
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "count_exceptions() takes at most one argument");
        return NULL;
    }
    return call_helper(h_exceptions, (PyObject *)self, nargs ? args[0] : PyExc_Exception);
}

static PyObject *gauge_set_to_current_time(SeriesObject *self, PyObject *unused)
{
    struct timespec ts;

    (void)unused;
    clock_gettime(CLOCK_REALTIME, &ts);
    shmet_set(self->s, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    Py_RETURN_NONE;
}

static PyObject *gauge_track_inprogress(SeriesObject *self, PyObject *unused)
{
    (void)unused;
    if (self->last)
        return last_mode("track_inprogress");
    return call_helper(h_inprogress, (PyObject *)self, NULL);
}

static PyObject *timer_of(PyObject *self, const char *method)
{
    PyObject *m = bound(self, method), *t;

    if (m == NULL)
        return NULL;
    t = call_helper(h_timer, m, NULL);
    Py_DECREF(m);
    return t;
}

static PyObject *gauge_time(SeriesObject *self, PyObject *unused)
{
    (void)unused;
    return timer_of((PyObject *)self, "set");
}

static PyObject *gauge_set_function(SeriesObject *self, PyObject *f)
{
    (void)self;
    (void)f;
    PyErr_SetString(PyExc_NotImplementedError,
                    "shmetrics gauges are pushed, not pulled: call set() when the value changes");
    return NULL;
}

static PyObject *hist_time(SeriesObject *self, PyObject *unused)
{
    (void)unused;
    return timer_of((PyObject *)self, "observe");
}

static PyMethodDef counter_methods[] = {
    {"count_exceptions", (PyCFunction)(void (*)(void))counter_count_exceptions, METH_FASTCALL,
     "count_exceptions(exception=Exception): count exceptions raised out of a block or "
     "function (context manager and decorator)."},
    {"inc", (PyCFunction)(void (*)(void))counter_inc, METH_FASTCALL,
     "inc(amount=1): add amount (>= 0) to the counter."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef gauge_methods[] = {
    {"inc", (PyCFunction)(void (*)(void))gauge_inc, METH_FASTCALL,
     "inc(amount=1): add amount (may be negative)."},
    {"dec", (PyCFunction)(void (*)(void))gauge_dec, METH_FASTCALL, "dec(amount=1): subtract amount."},
    {"set", (PyCFunction)gauge_set, METH_O, "set(value): set the gauge."},
    {"set_to_current_time", (PyCFunction)gauge_set_to_current_time, METH_NOARGS,
     "set the gauge to the current Unix time."},
    {"track_inprogress", (PyCFunction)gauge_track_inprogress, METH_NOARGS,
     "+1 while a block or function runs (context manager and decorator)."},
    {"time", (PyCFunction)gauge_time, METH_NOARGS,
     "set the gauge to the duration of a block or function, in seconds."},
    {"set_function", (PyCFunction)gauge_set_function, METH_O,
     "not available: gauge values are pushed by workers, never pulled at scrape time."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef hist_methods[] = {
    {"observe", (PyCFunction)(void (*)(void))hist_observe, METH_FASTCALL,
     "observe(amount): record one observation."},
    {"time", (PyCFunction)hist_time, METH_NOARGS,
     "observe the duration of a block or function, in seconds."},
    {NULL, NULL, 0, NULL},
};

#define SERIES_TYPE(cname, pyname, methods)                                                       \
    PyTypeObject cname = {                                                                 \
        PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmetrics._native." pyname,                     \
        .tp_basicsize = sizeof(SeriesObject),                                                     \
        .tp_flags = Py_TPFLAGS_DEFAULT,                                                           \
        .tp_doc = "One series of a family: a handle on shared memory, valid across fork.",       \
        .tp_methods = methods,                                                                    \
        .tp_new = NULL,                                                                           \
    }

SERIES_TYPE(CounterSeriesType, "CounterSeries", counter_methods);
SERIES_TYPE(GaugeSeriesType, "GaugeSeries", gauge_methods);
SERIES_TYPE(HistogramSeriesType, "HistogramSeries", hist_methods);
