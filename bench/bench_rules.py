"""Benchmark plans.rules: judge 100,000 targets and parse 100,000 target phrases.

Run from the repository root with the project's virtualenv:

    python bench/bench_rules.py            # timings, written to bench/results/rules.json
    python bench/bench_rules.py --profile  # also a cProfile of one judging pass (top functions)

The cases are a deterministic random.Random(2024) mix of every rule kind. Each figure is the best of 5
runs (time.perf_counter). The goal is judging 100,000 targets in under a second.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import platform
import pstats
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from plans.rules import RuleKind, TargetRule, judge, parse_target  # noqa: E402

N_CASES = 100_000
REPEATS = 5
SEED = 2024
GOAL_SECONDS = 1.0
RESULTS = REPO_ROOT / "bench" / "results" / "rules.json"

Case = tuple[TargetRule, object, Decimal | None, int | None, str | None]


def _figure(rng: random.Random, low: float, high: float, places: int) -> Decimal:
    return Decimal(f"{rng.uniform(low, high):.{places}f}")


def _actual(rng: random.Random, around: Decimal, places: int) -> object:
    """A numeric actual near ``around`` in one of the shapes callers pass (Decimal, str, float, int)."""
    value = around * Decimal(f"{rng.uniform(0.8, 1.2):.6f}")
    shape = rng.random()
    if shape < 0.55:
        return value.quantize(Decimal(1).scaleb(-(places + rng.choice((0, 1, 2)))))  # computed, extra decimals
    if shape < 0.85:
        return f"{value:.{places}f}"  # as typed / imported
    if shape < 0.95:
        return float(value)
    return int(value)


def build_cases(n: int = N_CASES, seed: int = SEED) -> list[Case]:
    """n (rule, actual, baseline, precision, direction) cases over every rule kind."""
    rng = random.Random(seed)
    kinds = [
        (RuleKind.FIXED_MIN, 30),
        (RuleKind.FIXED_MAX, 10),
        (RuleKind.EXACT, 5),
        (RuleKind.YOY_MIN, 30),
        (RuleKind.YOY_MAX, 8),
        (RuleKind.DONE, 7),
        (RuleKind.FREQUENCY, 5),
        (RuleKind.NONE, 5),
    ]
    population = [kind for kind, _ in kinds]
    weights = [weight for _, weight in kinds]
    cases: list[Case] = []
    for kind in rng.choices(population, weights, k=n):
        precision: int | None = rng.choice((0, 1, 1, 1, 2, 2, 3, None))
        places = precision if precision is not None else 2
        direction = rng.choice(("higher", "lower", None))
        baseline: Decimal | None = None
        if kind in (RuleKind.FIXED_MIN, RuleKind.FIXED_MAX, RuleKind.EXACT):
            target = Decimal(100) if kind is RuleKind.EXACT and rng.random() < 0.5 else _figure(rng, 0.1, 2000, places)
            word = {RuleKind.FIXED_MIN: "以上", RuleKind.FIXED_MAX: "以下", RuleKind.EXACT: "とする"}[kind]
            rule = TargetRule(kind, f"{target}%{word}", value=target, unit="%")
            actual = _actual(rng, target, places)
        elif kind in (RuleKind.YOY_MIN, RuleKind.YOY_MAX):
            last_year = _figure(rng, 0.1, 12000, places)
            stated = rng.random() < 0.4
            word = "以上" if kind is RuleKind.YOY_MIN else "以下"
            if stated:
                rule = TargetRule(kind, f"対前年度({last_year}%){word}", baseline=last_year, unit="%")
            else:
                rule = TargetRule(kind, f"対前年度{word}")
            baseline = None if stated else last_year
            if not stated and rng.random() < 0.05:
                baseline = None  # last year unknown: no mark
            actual = _actual(rng, last_year, places)
        elif kind is RuleKind.DONE:
            rule = TargetRule(kind, rng.choice(("実施", "関係機関への働きかけ")))
            actual = rng.choice(("実施", "実施済み", "未実施", "〇", True, False, None))
        elif kind is RuleKind.FREQUENCY:
            rule = TargetRule(kind, "毎月")
            actual = rng.choice((12, 11, "12", "毎月実施", 10, None))
        else:
            rule = TargetRule(kind, rng.choice(("設定なし", "－")))
            actual = _actual(rng, _figure(rng, 1, 100, 1), 1)
        if rng.random() < 0.02:
            actual = None  # no actual yet
        cases.append((rule, actual, baseline, precision, direction))
    return cases


_NAMES = (
    "生活習慣病予防健診実施率",
    "現金給付等の申請に係る郵送化率",
    "健診受診月から10か月以内に医療機関を受診した者の割合",
    "一般競争入札に占める一者応札案件の割合",
    "健康宣言事業所数",
)


def build_phrases(n: int = N_CASES, seed: int = SEED) -> list[str]:
    """n target phrases in the shapes the seed documents use (bare cells and whole KPI sentences)."""
    rng = random.Random(seed)
    phrases: list[str] = []
    for _ in range(n):
        value = f"{rng.uniform(0.1, 99.9):.1f}"
        count = f"{rng.randint(700, 12000):,}"
        form = rng.randrange(12)
        if form == 0:
            phrase = f"{value}％以上"
        elif form == 1:
            phrase = f"{value}%以下"
        elif form == 2:
            phrase = f"{count}事業所以上"
        elif form == 3:
            phrase = f"{rng.choice(_NAMES)}を{value}％以上とする"
        elif form == 4:
            phrase = f"{rng.choice(_NAMES)}について、{value}％以下とする"
        elif form == 5:
            phrase = rng.choice(("対前年度以上", "前年度以上", "対前年度末以上", "対前年度以下"))
        elif form == 6:
            phrase = f"対前年度（{value}％）以上"
        elif form == 7:
            phrase = f"{rng.choice(_NAMES)}を年度末時点で対前年度以上とする"
        elif form == 8:
            phrase = rng.choice(("100％とする", "100%", "7日以内", "７１．７％\n\n以上"))
        elif form == 9:
            phrase = rng.choice(("実施", "関係機関への働きかけ", "毎月", "月に1回以上"))
        elif form == 10:
            phrase = rng.choice(("設定なし", "－"))
        else:
            phrase = rng.choice(("以上", "71..7%以上", "未定", "健診受診月から10か月以内に医療機関を受診した者の割合"))
        phrases.append(phrase)
    return phrases


def judge_all(cases: list[Case]) -> Counter[str]:
    marks: Counter[str] = Counter()
    for rule, actual, baseline, precision, direction in cases:
        mark = judge(rule, actual, baseline=baseline, precision=precision, direction=direction)  # type: ignore[arg-type]
        marks[str(mark) if mark is not None else "－"] += 1
    return marks


def parse_all(phrases: list[str]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for phrase in phrases:
        try:
            kinds[str(parse_target(phrase).kind)] += 1
        except ValueError:
            kinds["error"] += 1
    return kinds


def best_of(fn: Callable[[], object], repeats: int = REPEATS) -> tuple[float, list[float], object]:
    runs: list[float] = []
    result: object = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return min(runs), runs, result


def profile_judging(cases: list[Case], top: int = 15) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    judge_all(cases)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one judging pass")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON figures")
    args = parser.parse_args(argv)

    cases = build_cases()
    phrases = build_phrases()
    case_kinds = Counter(str(rule.kind) for rule, *_ in cases)

    judge_best, judge_runs, marks = best_of(lambda: judge_all(cases))
    parse_best, parse_runs, parsed = best_of(lambda: parse_all(phrases))

    results = {
        "benchmark": "plans.rules",
        "seed": SEED,
        "repeats": REPEATS,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor_count": __import__("os").cpu_count(),
        "judge": {
            "cases": len(cases),
            "best_seconds": round(judge_best, 4),
            "runs_seconds": [round(run, 4) for run in judge_runs],
            "per_call_microseconds": round(judge_best / len(cases) * 1e6, 3),
            "goal_seconds": GOAL_SECONDS,
            "meets_goal": judge_best < GOAL_SECONDS,
            "rule_kinds": dict(sorted(case_kinds.items())),
            "marks": dict(sorted(marks.items())),  # type: ignore[union-attr]
        },
        "parse_target": {
            "phrases": len(phrases),
            "best_seconds": round(parse_best, 4),
            "runs_seconds": [round(run, 4) for run in parse_runs],
            "per_call_microseconds": round(parse_best / len(phrases) * 1e6, 3),
            "kinds": dict(sorted(parsed.items())),  # type: ignore[union-attr]
        },
    }

    print(
        f"judge:        {len(cases):,} cases   best {judge_best:.3f} s of {REPEATS}  "
        f"({results['judge']['per_call_microseconds']} µs/case)  goal < {GOAL_SECONDS:.1f} s: "
        f"{'met' if judge_best < GOAL_SECONDS else 'MISSED'}"
    )
    print(
        f"parse_target: {len(phrases):,} phrases best {parse_best:.3f} s of {REPEATS}  "
        f"({results['parse_target']['per_call_microseconds']} µs/phrase)"
    )
    print(f"marks: {results['judge']['marks']}")
    print(f"parsed: {results['parse_target']['kinds']}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.output}")

    if args.profile or judge_best >= GOAL_SECONDS:
        print("\ncProfile of one judging pass (sorted by own time):")
        print(profile_judging(cases))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
