"""Benchmark the Excel import: the cross-branch workbook of a whole year (47 branches × the catalog × 12 months).

    .venv/bin/python bench/bench_import.py [--year 2022] [--runs 3]

Builds a throwaway SQLite database (migrate, load_seed, generate_national_data for one year), exports the national
workbook of that year, then, each run: removes the year's monthly and year-end actuals and imports the workbook
(every figure checked, then written in one transaction with its history row), and imports it once more (every
figure unchanged: nothing written). Best and median seconds are printed and written to bench/results/import.json.
The goal is under 5 s for the import on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kpitrack.settings")
os.environ["DEBUG"] = "False"
os.environ.setdefault("SECRET_KEY", "bench-only-" + secrets.token_urlsafe(32))
_db = tempfile.NamedTemporaryFile(prefix="kpitrack-bench-import-", suffix=".sqlite3", delete=False)
os.environ["SQLITE_PATH"] = _db.name
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from plans.models import FiscalYear, KpiActual  # noqa: E402
from plans.national_data import generate_national_data  # noqa: E402
from plans.workbooks.importer import import_workbook  # noqa: E402
from plans.workbooks.national import national_workbook  # noqa: E402
from plans.workbooks.published import workbook_bytes  # noqa: E402

GOAL_SECONDS = 5.0
RESULTS = ROOT / "bench" / "results" / "import.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=2022)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    try:
        call_command("migrate", verbosity=0)
        call_command("load_seed", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        generate_national_data(first_year=args.year, years=1)
        started = time.perf_counter()
        data = workbook_bytes(national_workbook(FiscalYear.objects.get(year=args.year)))
        export_seconds = time.perf_counter() - started
        year_actuals = KpiActual.objects.filter(
            target__plan__fiscal_year_id=args.year,
            period__in=(KpiActual.Period.MONTHLY, KpiActual.Period.YEAR_END),
        )
        cells = year_actuals.count()
        fresh, again = [], []
        for _ in range(args.runs):
            year_actuals.delete()
            started = time.perf_counter()
            report = import_workbook(data, "national.xlsx", user=None)
            fresh.append(time.perf_counter() - started)
            assert report.ok and report.created == cells, (report.problem_lines[:5], report.created, cells)
            started = time.perf_counter()
            report = import_workbook(data, "national.xlsx", user=None)
            again.append(time.perf_counter() - started)
            assert report.ok and report.written == 0 and report.unchanged == cells
    finally:
        Path(_db.name).unlink(missing_ok=True)
    result = {
        "fiscal_year": args.year,
        "figures": cells,
        "workbook_bytes": len(data),
        "export_seconds": round(export_seconds, 3),
        "import_seconds_best": round(min(fresh), 3),
        "import_seconds_median": round(statistics.median(fresh), 3),
        "reimport_unchanged_seconds_best": round(min(again), 3),
        "goal_seconds": GOAL_SECONDS,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
