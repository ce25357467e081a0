"""Profile one dashboard page cold (every request renders) with cProfile, on the bench database.

    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/profile_pages.py /national/2024/ [--runs 10] [--sort tottime]
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
from django.test import Client  # noqa: E402

from plans import versions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--limit", type=int, default=35)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    if not client.login(username="hq", password="kpitrack-demo"):
        sys.exit("hq / kpitrack-demo でログインできません。load_demo_users を実行してください。")

    def cold_get() -> None:
        versions.bump()  # as just after a write: no cached page or fragment is current
        response = client.get(args.path)
        assert response.status_code == 200, response.status_code

    cold_get()
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
