"""CPU time per request of each dashboard, in this process (Django's test client, no server): a measure that
does not depend on how busy a shared machine is, unlike the wall-clock medians of bench_speed.py.

    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/cpu_pages.py [--runs 20] [--code-dir DIR]

The database must hold the national data set and the demo users (load_demo_users). Modes per page: ``304`` (a
repeat visit with If-None-Match), ``warm`` (a 200 with every cached fragment current), ``cold`` (after
``versions.bump()``: nothing cached is current). The best of three rounds is printed, in ms of CPU.
``--code-dir`` runs another checkout of kpitrack (e.g. ``git archive <commit> | tar -x -C DIR``) for a before/after.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

PAGES = [  # (path, user)
    ("/branches/tokyo/2024/", "tokyo"),
    ("/branches/tokyo/2024/kpi/lifestyle_checkup_rate/", "tokyo"),
    ("/national/2024/", "hq"),
    ("/national/2024/kpi/lifestyle_checkup_rate/", "hq"),
    ("/national/2024/status/", "hq"),
    ("/branches/tokyo/2024/entry/2024-10/", "tokyo"),  # the month screen: no validator, every mode renders
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--code-dir", default=str(Path(__file__).resolve().parent.parent))
    args = parser.parse_args()
    sys.path.insert(0, args.code_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kpitrack.settings")
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32))
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from plans import versions

    settings.ALLOWED_HOSTS = ["*"]
    print("| page | 304 | warm 200 | cold 200 |  (ms CPU per request)")
    print("| --- | ---: | ---: | ---: |")
    for path, user in PAGES:
        client = Client()
        if not client.login(username=user, password="kpitrack-demo"):
            sys.exit(f"{user} / kpitrack-demo でログインできません。load_demo_users を実行してください。")
        etag = client.get(path).headers.get("ETag", "")
        row = []
        for mode, runs in (("304", args.runs * 5), ("warm", args.runs), ("cold", max(3, args.runs // 4))):
            headers = {"HTTP_IF_NONE_MATCH": etag} if mode == "304" else {}
            best = float("inf")
            for _ in range(3):
                started = time.process_time()
                for _ in range(runs):
                    if mode == "cold":
                        versions.bump()
                    client.get(path, **headers)
                best = min(best, (time.process_time() - started) * 1000 / runs)
            row.append(f"{best:.1f}")
        print(f"| {path} | {' | '.join(row)} |")


if __name__ == "__main__":
    main()
