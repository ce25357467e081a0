"""Benchmark every dashboard page on the national-scale data set.

    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python manage.py migrate
    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python manage.py load_seed
    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python manage.py generate_national_data
    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/bench_pages.py [--runs 30]

The app runs under a WSGI server in this process (DEBUG off, as in production) and every page is fetched
over loopback HTTP, as the headquarters user: median and p95 server time, SQL query count, and beside it
the time to serve the same HTML bytes as a static file through the same server (WhiteNoise), which is the
floor no page can beat. Figures are printed and written to bench/results/pages.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kpitrack.settings")
os.environ["DEBUG"] = "False"
os.environ.setdefault("SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32))  # DEBUG off refuses the dev key

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from whitenoise import WhiteNoise  # noqa: E402

from plans.models import KpiActual, KpiTarget, Plan  # noqa: E402

PAGES = {
    "national_matrix": "/national/{year}/",
    "national_kpi": "/national/{year}/kpi/lifestyle_checkup_rate/",
    "branch_dashboard": "/branches/tochigi/{year}/",
    "kpi_detail": "/branches/tochigi/{year}/kpi/lifestyle_checkup_rate/",
}


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def fetch(port: int, path: str, cookie: str) -> tuple[float, int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie, "Host": "localhost"})
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed * 1000, response.status, body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "pages.json"))
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]

    client = Client()
    if not client.login(username="hq", password="kpitrack-demo"):
        sys.exit("hq / kpitrack-demo でログインできません。load_demo_users を実行してください。")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    static_dir = Path(tempfile.mkdtemp(prefix="kpitrack-bench-"))
    pages = {name: template.format(year=args.year) for name, template in PAGES.items()}
    query_counts: dict[str, int] = {}
    for name, path in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"{path} returned {response.status_code}")
        query_counts[name] = len(queries)
        (static_dir / f"{name}.html").write_bytes(response.content)

    app = WhiteNoise(get_wsgi_application(), root=str(static_dir), prefix="bench-static/", autorefresh=False)
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    results = {}
    for name, path in pages.items():
        for _ in range(3):  # warm up
            fetch(port, path, cookie)
        times, statics = [], []
        size = 0
        for _ in range(args.runs):
            elapsed, status, body = fetch(port, path, cookie)
            assert status == 200, (path, status)
            size = len(body)
            times.append(elapsed)
            elapsed, status, _ = fetch(port, f"/bench-static/{name}.html", "")
            assert status == 200
            statics.append(elapsed)
        results[name] = {
            "path": path,
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "queries": query_counts[name],
            "static_median_ms": round(statistics.median(statics), 2),
            "html_bytes": size,
        }
    server.shutdown()

    data_set = {
        "plans": Plan.objects.count(),
        "targets": KpiTarget.objects.count(),
        "actuals": KpiActual.objects.count(),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "runs": args.runs,
    }
    print(f"data set: {data_set}")
    print(f"{'page':<18}{'median ms':>10}{'p95 ms':>9}{'queries':>9}{'static ms':>11}{'KB':>7}")
    for name, row in results.items():
        print(
            f"{name:<18}{row['median_ms']:>10}{row['p95_ms']:>9}{row['queries']:>9}"
            f"{row['static_median_ms']:>11}{row['html_bytes'] // 1024:>7}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"data_set": data_set, "pages": results}, ensure_ascii=False, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
