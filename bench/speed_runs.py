"""The median of several runs of bench_speed.sh (issue 12): one run's medians move with what else the machine is
doing (a shared machine's static file alone varies by half between runs), so the tables are the median of runs.

    for i in 1 2 3 4 5; do bash bench/bench_speed.sh --label r7-$i; done
    .venv/bin/python bench/speed_runs.py r7 bench/results/speed-*-r7-?.json

Per database and page it prints each run's cold time and 304 × static ratio and their medians, and writes them
to bench/results/speed-<label>-runs.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Runs of one database (bench_speed.py's JSON) → per page: each run's figures and their medians."""
    pages: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        for page, figures in run["pages"].items():
            for name in ("cold_ms", "cold_all_ms", "warm_ms", "static_ms", "warm_ratio"):
                if figures.get(name) is not None:
                    pages[page][name].append(figures[name])
    return {
        "data_set": runs[0]["data_set"],
        "runs": len(runs),
        "pages": {
            page: {
                "cold_runs": figures["cold_ms"],
                "cold_median": _median(figures["cold_ms"]),
                "stale_median": _median(figures["cold_all_ms"]),
                "warm_median": _median(figures["warm_ms"]),
                "static_median": _median(figures["static_ms"]),
                "ratio_runs": figures["warm_ratio"],
                "ratio_median": _median(figures["warm_ratio"]),
            }
            for page, figures in pages.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("label", help="written to bench/results/speed-<label>-runs.json")
    parser.add_argument("files", nargs="+", type=Path, help="bench_speed.py's JSON, one per run and database")
    args = parser.parse_args()
    by_database: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in args.files:
        run = json.loads(path.read_text())
        by_database[run["data_set"]["database"]].append(run)
    result = {database: summary(runs) for database, runs in by_database.items()}
    for database, table in result.items():
        print(f"\n{database}: median of {table['runs']} runs")
        print("| page | cold ms (runs) | cold median | 304 × static (runs) | median |")
        print("| --- | --- | ---: | --- | ---: |")
        for page, f in table["pages"].items():
            ratios = ", ".join(f"{r}" for r in f["ratio_runs"])
            colds = ", ".join(f"{c}" for c in f["cold_runs"])
            print(f"| {page} | {colds} | {f['cold_median']} | {ratios} | {f['ratio_median']}× |")
    out = ROOT / "bench" / "results" / f"speed-{args.label}-runs.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
