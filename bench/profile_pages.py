"""Profile one dashboard page with cProfile, on the bench database: cold (every request renders, the default),
warm (``--mode warm``: cached fragments, no bump) or a revalidation (``--mode 304``: If-None-Match with the page's
ETag). Also prints the queries of one request.

    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/profile_pages.py /national/2024/ [--runs 10] [--sort tottime]
    ... bench/profile_pages.py /branches/tokyo/2024/ --user tokyo --mode 304
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kpitrack.settings")
os.environ["DEBUG"] = "False"
os.environ.setdefault("SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from plans import versions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--limit", type=int, default=35)
    parser.add_argument("--mode", choices=("cold", "warm", "304"), default="cold")
    parser.add_argument("--user", default="hq", help="a demo user (load_demo_users); default hq")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    if not client.login(username=args.user, password="kpitrack-demo"):
        sys.exit(f"{args.user} / kpitrack-demo でログインできません。load_demo_users を実行してください。")
    etag = client.get(args.path).headers.get("ETag", "")
    expected = 304 if args.mode == "304" else 200

    def cold_get() -> None:
        if args.mode == "cold":
            versions.bump()  # as just after a write: no cached page or fragment is current
        headers = {"HTTP_IF_NONE_MATCH": etag} if args.mode == "304" else {}
        response = client.get(args.path, **headers)
        assert response.status_code == expected, response.status_code

    cold_get()
    with CaptureQueriesContext(connection) as queries:
        cold_get()
    print(f"{len(queries)} queries in one request:")
    for query in queries:
        print("   ", query["sql"][:160])
    started = time.perf_counter()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.runs):
        cold_get()
    profile.disable()
    print(f"{args.path}: {(time.perf_counter() - started) * 1000 / args.runs:.1f} ms per request (profiled)")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.limit)


if __name__ == "__main__":
    main()
