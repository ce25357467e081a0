"""CPU time per request of each dashboard, in this process (Django's test client, no server): a measure that
does not depend on how busy a shared machine is, unlike the wall-clock medians of bench_speed.py.

    SQLITE_PATH=/tmp/bench.sqlite3 .venv/bin/python bench/cpu_pages.py [--runs 20] [--code-dir DIR]

The database must hold the national data set and the demo users (load_demo_users). Modes per page: ``304`` (a
repeat visit with If-None-Match), ``warm`` (a 200 with every cached fragment current), ``after a save`` (a 200
just after one figure of Tokyo's 2024 plan was saved through ``services.actual_record``: the issue's "cold"),
``cold`` (after ``versions.bump()``: nothing cached is current). The best of three rounds is printed, in ms of CPU.
``--code-dir`` runs another checkout of kpitrack (e.g. ``git archive <commit> | tar -x -C DIR``) for a before/after.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path

PAGES = [  # (path, user)
    ("/branches/tokyo/2024/", "tokyo"),
    ("/branches/tokyo/2024/kpi/lifestyle_checkup_rate/", "tokyo"),
    ("/branches/tokyo/2024/plan/", "tokyo"),
    ("/national/2024/", "hq"),
    ("/national/2024/kpi/lifestyle_checkup_rate/", "hq"),
    ("/national/2024/status/", "hq"),
    ("/branches/tokyo/2024/entry/2024-10/", "tokyo"),  # the month screen: no validator, every mode renders
]


class Saver:
    """Saves one actual of Tokyo's 2024 plan again, its figure alternating (as bench_speed.py's ``Saver``)."""

    def __init__(self) -> None:
        from plans.models import KpiActual

        self.actual = (
            KpiActual.objects.filter(target__plan__branch__code="tokyo", target__plan__fiscal_year_id=2024)
            .filter(value__gt=1, value__lt=90)
            .order_by("period", "month")
            .first()
        )
        if self.actual is None:
            sys.exit("支部「tokyo」の2024年度の実績がありません。")
        self.count = 0

    def save(self) -> None:
        from plans import services
        from plans.models import KpiTarget

        self.count += 1
        target = KpiTarget.objects.select_related("plan", "kpi").get(pk=self.actual.target_id)
        value = self.actual.value + Decimal("0.1") * (self.count % 2)
        services.actual_record(
            target=target, period=self.actual.period, month=self.actual.month, value=value, reason="cpu_pages"
        )


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
    saver = Saver()
    print("| page | 304 | warm 200 | after a save | cold 200 |  (ms CPU per request)")
    print("| --- | ---: | ---: | ---: | ---: |")
    for path, user in PAGES:
        client = Client()
        if not client.login(username=user, password="kpitrack-demo"):
            sys.exit(f"{user} / kpitrack-demo でログインできません。load_demo_users を実行してください。")
        etag = client.get(path).headers.get("ETag", "")
        row = []
        modes = (("304", args.runs * 5), ("warm", args.runs), ("save", args.runs), ("cold", max(3, args.runs // 4)))
        for mode, runs in modes:
            headers = {"HTTP_IF_NONE_MATCH": etag} if mode == "304" else {}
            best = float("inf")
            for _ in range(3):
                spent = 0.0
                for _ in range(runs):
                    if mode == "cold":
                        versions.bump()
                    elif mode == "save":
                        saver.save()
                    started = time.process_time()
                    client.get(path, **headers)
                    spent += time.process_time() - started
                best = min(best, spent * 1000 / runs)
            row.append(f"{best:.1f}")
        print(f"| {path} | {' | '.join(row)} |")


if __name__ == "__main__":
    main()
