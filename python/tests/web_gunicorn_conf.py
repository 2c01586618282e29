"""A user's own gunicorn configuration importing shmetrics' hooks."""

from shmetrics.gunicorn import on_exit, on_starting  # noqa: F401

workers = 4
preload_app = True
max_requests = 50
max_requests_jitter = 10
loglevel = "warning"
