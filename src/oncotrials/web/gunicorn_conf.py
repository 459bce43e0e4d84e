"""gunicorn settings for production: ``gunicorn -c python:oncotrials.web.gunicorn_conf
oncotrials.web.wsgi:application`` (any option given on the command line wins).

Environment: ``ONCOTRIALS_GUNICORN_WORKERS`` (two per CPU, at most 8),
``ONCOTRIALS_GUNICORN_THREADS`` (2),
``ONCOTRIALS_GUNICORN_KEEPALIVE`` (seconds, 10), ``ONCOTRIALS_GUNICORN_BIND`` (127.0.0.1:8000).

Keep-alive: gunicorn closes an idle kept-alive connection after 2 s by default. A client (or a
proxy) that reuses its connection just as the server closes it gets a connection reset: under a
persona load of 30–60 users with the default, 12 and 54 requests failed that way, none with 10 s.
The value must stay below the idle timeout of whatever sits in front (a proxy reusing upstream
connections should close them first) and above the pause between a client's requests.
"""

from __future__ import annotations

import os


def _int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a whole number; got {raw!r}.") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}; got {value}.")
    return value


bind = os.environ.get("ONCOTRIALS_GUNICORN_BIND", "127.0.0.1:8000")
# Processes rather than threads: a page's Python holds its process's interpreter lock, so a
# request queued behind a heavy page in the same process waits for it. Under the persona load
# (50 users, centre-10y, 2 CPUs) 2 workers x 4 threads gave an aggregated p95 of 560 ms, 4 x 2
# 320 ms for the same server CPU per request (README, "Persona load").
workers = _int("ONCOTRIALS_GUNICORN_WORKERS", min(8, 2 * (os.cpu_count() or 1)), 1)
threads = _int("ONCOTRIALS_GUNICORN_THREADS", 2, 1)
worker_class = "gthread"
keepalive = _int("ONCOTRIALS_GUNICORN_KEEPALIVE", 10, 10)
