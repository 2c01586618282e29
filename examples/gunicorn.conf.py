"""gunicorn configuration for examples/flask_app.py.

Run from the repository root::

    gunicorn -c examples/gunicorn.conf.py

The two hooks imported below are all shmetrics needs: ``on_starting`` runs a
shmetricsd from the master unless one already serves the namespace
(``$SHMETRICS_NS``, else ``default``), ``on_exit`` stops the one it started.
No multiprocess directory, no ``child_exit`` hook; ``max_requests`` churn and
``--preload`` both work. The whole module ``python:shmetrics.gunicorn`` can
stand in for this file when the defaults suit: ``gunicorn -c
python:shmetrics.gunicorn -w 4 flask_app:app``.
"""

import os

from shmetrics.gunicorn import on_exit, on_starting  # noqa: F401

wsgi_app = "flask_app:app"
pythonpath = os.path.dirname(os.path.abspath(__file__))
bind = "127.0.0.1:8000"
workers = 4
max_requests = 1000  # worker churn: the series and counts carry on
max_requests_jitter = 100
