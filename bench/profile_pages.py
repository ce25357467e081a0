"""Profile one page with cProfile, on the bench database: cold (every request renders, the default), warm
(``--mode warm``: cached fragments, no bump) or a revalidation (``--mode 304``: If-None-Match with the page's
ETag). Also prints the queries of one request.

The month screen's saves: ``--post save`` POSTs one KPI's value (with its ``t<id>-version`` and a reason, as the
load test's ``save_month`` does) and follows nothing; ``--post conflict`` POSTs it against a stale version (the
answer is the sheet with the conflict box). The page is read (not measured) before each POST for the versions.
``--post after`` measures the GET that follows a save (the redirect's target, with its message).

``--cpu`` prints only the CPU ms per request (best of three rounds, no profiler); ``--code-dir`` runs another
checkout of kpitrack (e.g. ``git archive <commit> | tar -x -C DIR``) for a before/after.

    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/profile_pages.py /national/2024/ [--runs 10] [--sort tottime]
    ... bench/profile_pages.py /branches/tokyo/2024/ --user tokyo --mode 304
    ... bench/profile_pages.py /branches/tokyo/2024/entry/2024-10/ --user tokyo --post save --cpu
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
import pstats
import re
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="t(\d+)-version" value="(\d+)"')
VALUE_INPUT = re.compile(r'name="t(\d+)-value"')
REASON = "計測"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--limit", type=int, default=35)
    parser.add_argument("--mode", choices=("cold", "warm", "304"), default="cold")
    parser.add_argument("--post", choices=("save", "conflict", "after"), default=None, help="the month screen's saves")
    parser.add_argument("--cpu", action="store_true", help="CPU ms per request only (no profiler)")
    parser.add_argument("--user", default="hq", help="a demo user (load_demo_users); default hq")
    parser.add_argument("--code-dir", default=str(ROOT))
    args = parser.parse_args()
    sys.path.insert(0, args.code_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kpitrack.settings")
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from plans import versions

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    if not client.login(username=args.user, password="kpitrack-demo"):
        sys.exit(f"{args.user} / kpitrack-demo でログインできません。load_demo_users を実行してください。")
    etag = client.get(args.path).headers.get("ETag", "")
    expected = 304 if args.mode == "304" else 200
    values = itertools.cycle(("11", "12"))

    def prepare() -> Callable[[], Any]:
        """What one measured request does (anything it needs first is done here, outside the measure)."""
        if args.post is None:
            if args.mode == "cold":
                versions.bump()  # as just after a write: no cached page or fragment is current
            headers = {"HTTP_IF_NONE_MATCH": etag} if args.mode == "304" else {}
            return lambda: check(client.get(args.path, **headers), expected)
        page = client.get(args.path).content.decode()
        token = CSRF.search(page)
        target = VALUE_INPUT.findall(page)[0]
        version = int(dict(VERSION.findall(page))[target])
        form = {
            "csrfmiddlewaretoken": token.group(1) if token else "",
            f"t{target}-version": str(version if args.post != "conflict" else max(version - 1, 0)),
            f"t{target}-value": next(values) if args.post != "conflict" else "13",  # never the saved value
            f"t{target}-reason": REASON,
        }
        if args.post == "after":
            check(client.post(args.path, form), 302)
            return lambda: check(client.get(args.path), 200)
        return lambda: check(client.post(args.path, form), 302 if args.post == "save" else 200)

    def check(response: Any, status: int) -> None:
        assert response.status_code == status, (response.status_code, status)
        if args.post == "conflict":
            assert 'class="conflict"' in response.content.decode()

    prepare()()
    if args.cpu:
        best = float("inf")
        for _ in range(3):
            spent = 0.0
            for _ in range(args.runs):
                request = prepare()
                started = time.process_time()
                request()
                spent += time.process_time() - started
            best = min(best, spent * 1000 / args.runs)
        print(f"{args.path} {args.post or args.mode}: {best:.1f} ms CPU per request (best of 3 × {args.runs})")
        return
    request = prepare()
    with CaptureQueriesContext(connection) as queries:
        request()
    print(f"{len(queries)} queries in one request:")
    for query in queries:
        print("   ", query["sql"][:160])
    profile = cProfile.Profile()
    spent = 0.0
    for _ in range(args.runs):
        request = prepare()
        started = time.perf_counter()
        profile.enable()
        request()
        profile.disable()
        spent += time.perf_counter() - started
    print(f"{args.path}: {spent * 1000 / args.runs:.1f} ms per request (profiled)")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.limit)


if __name__ == "__main__":
    main()
