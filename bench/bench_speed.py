"""Dashboards against a static file, cold and warm, through gunicorn (issue 12).

    bash bench/bench_speed.sh                 # SQLite and PostgreSQL: builds both national data sets, then runs this
    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/bench_speed.py [--runs 30] [--year 2024]
    DATABASE_URL=postgres://… .venv/bin/python bench/bench_speed.py

The database must hold the national data set (migrate, load_seed, load_demo_users, generate_national_data).
The app runs under gunicorn (``--workers`` sync workers, DEBUG off) with the pages' own bytes served as static
files by the same server (bench/speed_wsgi.py). Per page, over loopback HTTP as the headquarters user:

- cold: the median after a save of one figure of ``--branch`` (services.actual_record) before every request,
  so the page's data version changed and it is rendered again (only what the save touched is read again: the
  matrix recomputes that branch's row). ``all stale``: the median after ``versions.bump()`` (no cache entry
  is current: every row and table is read and rendered).
- warm: the median of a repeat visit with If-None-Match (304 Not Modified, nothing rendered).
- static: the median of the same bytes as a static file; ``× static`` = warm / static and cold / static.
- queries: SQL queries of a cold request (Django's test client, in this process).

Figures are printed as a Markdown table and written to bench/results/speed-<database>.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kpitrack.settings")
os.environ["DEBUG"] = "False"
os.environ.setdefault("SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32))  # gunicorn gets the same key

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from plans import services  # noqa: E402
from plans.models import KpiActual, KpiTarget, Plan  # noqa: E402

try:  # a checkout before issue 12 has no data versions and no validators: measured cold only ("before")
    from plans import versions
except ImportError:  # pragma: no cover
    versions = None  # type: ignore[assignment]

KPI = "lifestyle_checkup_rate"
PAGES = {
    "national_matrix": "/national/{year}/",
    "national_kpi": "/national/{year}/kpi/" + KPI + "/",
    "report_status": "/national/{year}/status/",
    "branch_dashboard": "/branches/{branch}/{year}/",
    "plan_page": "/branches/{branch}/{year}/plan/",
    "kpi_detail": "/branches/{branch}/{year}/kpi/" + KPI + "/",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(port: int, path: str, headers: dict[str, str]) -> tuple[float, int, bytes, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Host": "localhost", **headers})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    etag = response.getheader("ETag") or ""
    conn.close()
    return elapsed, response.status, body, etag


class Saver:
    """Saves one actual of ``branch`` in ``year`` again, its figure alternating, as a user saving a month would."""

    def __init__(self, branch: str, year: int) -> None:
        self.actual = (
            KpiActual.objects.filter(target__plan__branch__code=branch, target__plan__fiscal_year_id=year)
            .filter(value__gt=1, value__lt=90)
            .select_related("target__plan")
            .order_by("period", "month")
            .first()
        )
        if self.actual is None:
            sys.exit(f"支部「{branch}」の{year}年度の実績がありません。")
        self.original: Decimal = self.actual.value  # type: ignore[assignment]
        self.count = 0

    def save(self, value: Decimal | None = None) -> None:
        self.count += 1
        actual = KpiActual.objects.get(pk=self.actual.pk)
        target = KpiTarget.objects.select_related("plan", "kpi").get(pk=actual.target_id)
        figure = value if value is not None else self.original + Decimal("0.1") * (self.count % 2)
        services.actual_record(
            target=target, period=actual.period, month=actual.month, value=figure, reason="bench_speed"
        )

    def restore(self) -> None:
        self.save(self.original)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--branch", default="tokyo")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--label", default="", help="e.g. before / after, printed and kept in the JSON")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    client = Client()
    if not client.login(username="hq", password="kpitrack-demo"):
        sys.exit("hq / kpitrack-demo でログインできません。load_demo_users を実行してください。")
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    pages = {name: path.format(year=args.year, branch=args.branch) for name, path in PAGES.items()}
    saver = Saver(args.branch, args.year)

    static_dir = Path(tempfile.mkdtemp(prefix="kpitrack-speed-"))
    queries: dict[str, int] = {}
    for name, path in pages.items():
        saver.save()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"{path} returned {response.status_code}")
        queries[name] = len(captured)
        (static_dir / f"{name}.html").write_bytes(response.content)
    # the CSRF cookie the pages were rendered with, so a repeat visit presents the same secret
    csrf = client.cookies.get(settings.CSRF_COOKIE_NAME)
    if csrf is not None:
        cookie += f"; {settings.CSRF_COOKIE_NAME}={csrf.value}"

    port = free_port()
    env = {  # gunicorn.conf.py is read too: no access log (the page and its static copy alike)
        **os.environ,
        "BENCH_STATIC_DIR": str(static_dir),
        "ALLOWED_HOSTS": "*",
        "LOG_LEVEL": "ERROR",
        "GUNICORN_ACCESS_LOG": "",
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    server = subprocess.Popen(
        [gunicorn, "bench.speed_wsgi:application", "--chdir", str(ROOT), "--workers", str(args.workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                fetch(port, "/bench-static/national_matrix.html", {})
                break
            except OSError:
                time.sleep(0.1)
        results = {name: measure(port, path, name, cookie, saver, args.runs) for name, path in pages.items()}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        saver.restore()
        shutil.rmtree(static_dir, ignore_errors=True)
    for name, row in results.items():
        row["queries"] = queries[name]

    data_set = {
        "database": database,
        "plans": Plan.objects.count(),
        "targets": KpiTarget.objects.count(),
        "actuals": KpiActual.objects.count(),
        "runs": args.runs,
        "server": f"gunicorn, {args.workers} sync workers",
        "label": args.label,
    }
    print(f"\n{database} ({args.label or 'this checkout'}): {data_set}")
    print("| page | cold ms | cold, all stale | warm 304 ms | static ms | cold × static | warm × static | queries |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, row in results.items():
        shown = {key: "—" if value is None else value for key, value in row.items()}
        print(
            f"| {name} | {shown['cold_ms']} | {shown['cold_all_ms']} | {shown['warm_ms']} | {shown['static_ms']} "
            f"| {shown['cold_ratio']}× | {shown['warm_ratio']}× | {shown['queries']} |"
        )
    out = ROOT / "bench" / "results" / f"speed-{database}{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps({"data_set": data_set, "pages": results}, ensure_ascii=False, indent=2) + "\n")
    print(f"written to {out}")


def median_of(runs: int, request: Callable[[], float]) -> float:
    return round(statistics.median(request() for _ in range(runs)), 1)


def measure(port: int, path: str, name: str, cookie: str, saver: Saver, runs: int) -> dict[str, Any]:
    headers = {"Cookie": cookie}
    for _ in range(3):  # warm up both workers
        fetch(port, path, headers)

    def cold() -> float:
        saver.save()
        elapsed, status, _body, _etag = fetch(port, path, headers)
        assert status == 200, (path, status)
        return elapsed

    def cold_all() -> float:
        versions.bump()  # type: ignore[union-attr]
        elapsed, status, _body, _etag = fetch(port, path, headers)
        assert status == 200, (path, status)
        return elapsed

    def warm() -> float:
        elapsed, status, _body, _etag = fetch(port, path, {**headers, "If-None-Match": etag})
        assert status == 304, (path, status)
        return elapsed

    def static() -> float:
        elapsed, status, _body, _etag = fetch(port, f"/bench-static/{name}.html", {})
        assert status == 200
        return elapsed

    cold_ms = median_of(runs, cold)
    cold_all_ms = median_of(max(5, runs // 3), cold_all) if versions is not None else None
    _elapsed, status, body, etag = fetch(port, path, headers)  # nothing changes from here on
    assert status == 200, (path, status)
    # A 304 and the static file are each well under a millisecond or two: many samples, taken in turns so that
    # both meet the same moments of a shared machine, and the ratio of the unrounded medians.
    warm_samples, static_samples = [], []
    for _ in range(runs * 5):
        if etag:
            warm_samples.append(warm())
        static_samples.append(static())
    warm_median = statistics.median(warm_samples) if warm_samples else None
    static_median = statistics.median(static_samples)
    return {
        "path": path,
        "html_bytes": len(body),
        "cold_ms": cold_ms,
        "cold_all_ms": cold_all_ms,
        "warm_ms": round(warm_median, 2) if warm_median is not None else None,
        "static_ms": round(static_median, 2),
        "cold_ratio": round(cold_ms / static_median, 1),
        "warm_ratio": round(warm_median / static_median, 1) if warm_median is not None else None,
    }


if __name__ == "__main__":
    main()
