"""The WSGI app bench/bench_speed.py runs under gunicorn: kpitrack, plus the pages' own bytes as static files
under /bench-static/ (WhiteNoise, from BENCH_STATIC_DIR), so a page and its static copy go through the same
server and workers."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application
from whitenoise import WhiteNoise

application = WhiteNoise(
    get_wsgi_application(), root=os.environ["BENCH_STATIC_DIR"], prefix="bench-static/", autorefresh=False
)
