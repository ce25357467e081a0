"""import_plan: a branch's plan document → a draft (KPIs, targets, measures) → a saved plan or a fixture.

The seed documents are checked against the hand-made fixtures (fixtures/seed/<branch>.json): a drafted target
that contradicts the fixture fails the test; a target the reader left to the admin is a warning.
"""

from __future__ import annotations

import json
import shutil
import warnings
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from plans.imports import reader as reader_module
from plans.imports.draft import Draft, DraftTarget
from plans.imports.matcher import KpiMatcher, name_key
from plans.imports.reader import read_plan
from plans.imports.save import ERROR_INVALID, ERROR_PLAN_EXISTS, ImportRefused, save_draft
from plans.models import KpiTarget, Measure, Plan
from plans.rules import TargetParseError, parse_target
from plans.seed import SEED_DIR, read_seed

SEEDS = Path(settings.BASE_DIR).parent / "shared" / "seeds"

#: The document each fixture was transcribed from, and the year whose plan it sets out.
DOCUMENTS = [
    pytest.param("gifu", 2024, id="gifu-2024"),
    pytest.param("kagoshima", 2025, id="kagoshima-2025"),
    pytest.param("tochigi", 2023, id="tochigi-2023"),
    pytest.param("tokyo", 2024, id="tokyo-2024"),
]
#: Share of the fixture's targets the draft must read (the rest are warnings for the admin).
MIN_MATCH_RATE = 0.85


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_plan", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def dry_run_json(path: Path, branch: str, year: int) -> dict[str, Any]:
    return json.loads(run(str(path), "--branch", branch, "--fiscal-year", str(year), "--dry-run", "--json"))


def fixture_plan(branch: str, year: int) -> tuple[str, dict[str, Any]]:
    data = json.loads((SEED_DIR / f"{branch}.json").read_text(encoding="utf-8"))
    return data["source"], next(plan for plan in data["plans"] if plan["fiscal_year"] == year)


def rule_of(text: str) -> tuple[str, Decimal | None, Decimal | None]:
    rule = parse_target(text)
    return rule.kind.value, rule.value, rule.baseline


def drafted(entry: dict[str, Any]) -> tuple[str, Decimal | None, Decimal | None]:
    number = lambda value: None if value is None else Decimal(str(value))  # noqa: E731
    return entry["rule"], number(entry["target"]), number(entry["baseline"])


# --------------------------------------------------------------------------------------------------
# The seed documents
# --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("branch", "year"), DOCUMENTS)
def test_it_drafts_the_targets_the_fixture_holds(branch: str, year: int) -> None:
    source, plan = fixture_plan(branch, year)
    if not (SEEDS / source).is_file():
        pytest.skip(f"seed document {source} is not in {SEEDS}")

    draft = dry_run_json(SEEDS / source, branch, year)

    by_code = {entry["kpi"]: entry for entry in draft["targets"] if entry["kpi"]}
    expected = {}
    for kpi in plan["kpis"]:
        try:
            expected[kpi["kpi"]] = rule_of(kpi["target_text"])
        except TargetParseError:
            continue
    wrong, missing, read = [], [], 0
    for code, rule in expected.items():
        entry = by_code.get(code)
        if entry is None or entry["rule"] is None:
            missing.append(code)
        elif drafted(entry) != rule:
            wrong.append(f"{code}: drafted {drafted(entry)}, fixture {rule}")
        else:
            read += 1
    # A target for a KPI the fixture's plan does not hold is a wrong target too (another year's column).
    wrong += [f"{code}: not in the plan" for code, e in by_code.items() if code not in expected and e["rule"]]
    for code in missing:
        warnings.warn(f"{branch} {year}: {code} not drafted (left to the admin)", stacklevel=1)
    for message in draft["warnings"]:
        warnings.warn(f"{branch} {year}: {message}", stacklevel=1)

    assert wrong == []
    assert read / len(expected) >= MIN_MATCH_RATE, missing
    assert draft["branch"] == branch and draft["fiscal_year"] == year


@pytest.mark.django_db
def test_the_json_draft_has_exactly_the_documented_shape() -> None:
    path = SEEDS / "001_1a96f4371dfdfb7e.txt"
    if not path.is_file():
        pytest.skip("seed document absent")

    draft = dry_run_json(path, "kagoshima", 2025)

    assert list(draft) == ["branch", "fiscal_year", "targets", "deleted", "measures", "warnings"]
    assert {tuple(entry) for entry in draft["targets"]} == {
        ("kpi", "name", "target_text", "rule", "target", "baseline", "previous_target_text")
    }
    assert all(tuple(measure) == ("area", "number", "title") for measure in draft["measures"])
    assert all(measure["area"] in (1, 2, 3) for measure in draft["measures"])
    offices = next(entry for entry in draft["targets"] if entry["kpi"] == "health_declaration_offices")
    assert (offices["rule"], offices["target"], offices["baseline"]) == ("fixed_min", 1310, None)
    sns = next(entry for entry in draft["targets"] if entry["kpi"] == "sns_monthly_posts")
    assert (sns["rule"], sns["target"], sns["target_text"]) == ("frequency", None, "毎月")


@pytest.mark.django_db
def test_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text("■ KPI：健康宣言事業所数を2,100事業所以上とする\n", encoding="utf-8")
    plans, targets = Plan.objects.count(), KpiTarget.objects.count()

    output = run(str(path), "--branch", "okinawa", "--fiscal-year", "2025", "--dry-run")

    assert "何も保存していません" in output
    assert (Plan.objects.count(), KpiTarget.objects.count()) == (plans, targets)


# --------------------------------------------------------------------------------------------------
# Reading: columns of two years, 同左, ※KPIは削除, unknown names
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def matcher() -> KpiMatcher:
    return KpiMatcher.from_pairs(
        [
            ("health_declaration_offices", "健康宣言事業所数"),
            ("lifestyle_checkup_rate", "生活習慣病予防健診実施率"),
            ("generic_drug_share", "ジェネリック医薬品使用割合"),
        ]
    )


def test_a_row_with_this_and_last_years_targets_leaves_the_target_empty(matcher: KpiMatcher) -> None:
    text = "令和6年度 KPI 令和5年度 KPI\n健康宣言事業所数 2,000事業所以上 1,600事業所以上\n"

    draft = read_plan(text, matcher, branch="tochigi", fiscal_year=2024)

    target = draft.target_for("health_declaration_offices")
    assert target is not None and (target.rule, target.target, target.target_text) == (None, None, "")
    assert draft.warnings == [
        reader_module.WARN_COLUMNS.format(name="健康宣言事業所数", cells="2000事業所以上・1600事業所以上")
    ]


def test_a_single_target_under_a_header_naming_last_years_column_is_left_empty(matcher: KpiMatcher) -> None:
    text = "令和6年度 KPI 令和5年度 KPI\n健康宣言事業所数 1,600事業所以上\n"

    draft = read_plan(text, matcher, branch="tochigi", fiscal_year=2024)

    target = draft.target_for("health_declaration_offices")
    assert target is not None and target.rule is None
    assert len(draft.warnings) == 1


def test_a_tab_table_reads_this_years_column_and_keeps_last_years_as_previous(matcher: KpiMatcher) -> None:
    text = (
        "所管\t具体的施策\tKPI\t令和7年度\t令和6年度\t令和5年度\n"
        "\t\tKPI\tKPI\tKPI\n"
        "企画\tコラボヘルス\t健康宣言事業所数\t1,310事業所以上\t1,050事業所以上\t770事業所以上\n"
        "\t生活習慣病予防健診実施率\t60.3%以上\t59.0%以上\t58.0%以上\n"  # merged cells: one column fewer
    )

    draft = read_plan(text, matcher, branch="kagoshima", fiscal_year=2025)

    offices = draft.target_for("health_declaration_offices")
    checkup = draft.target_for("lifestyle_checkup_rate")
    assert offices is not None and checkup is not None
    assert (offices.rule, offices.target) == ("fixed_min", Decimal("1310"))
    assert offices.previous_target_text == "1,050事業所以上"
    assert (checkup.rule, checkup.target, checkup.previous_target_text) == ("fixed_min", Decimal("60.3"), "59.0%以上")
    assert draft.warnings == []


def test_under_a_this_year_first_header_the_first_cell_is_the_target(matcher: KpiMatcher) -> None:
    text = (
        " 令和６年度 KPI目標 令和６年度 実績 KPI達成状況 令和５年度 実績\n"
        "健康宣言事業所数 1,570事業所 1,481事業所\n"
        "生活習慣病予防健診実施率 66.5％\n"  # one figure only: the target cell may be empty
    )

    draft = read_plan(text, matcher, branch="gifu", fiscal_year=2024)

    offices, checkup = draft.target_for("health_declaration_offices"), draft.target_for("lifestyle_checkup_rate")
    assert offices is not None and (offices.rule, offices.target) == ("exact", Decimal(1570))
    assert checkup is not None and checkup.rule is None
    assert draft.warnings == [reader_module.WARN_LONE_FIGURE.format(name="生活習慣病予防健診実施率")]


def test_same_as_left_is_left_to_the_admin(matcher: KpiMatcher) -> None:
    text = "所管\tKPI\t令和7年度\t令和6年度\n企画\t健康宣言事業所数\t同左\t1,050事業所以上\n"

    draft = read_plan(text, matcher, branch="kagoshima", fiscal_year=2025)

    target = draft.target_for("health_declaration_offices")
    assert target is not None and target.rule is None
    assert draft.warnings == [reader_module.WARN_SAME_AS_LEFT.format(name="健康宣言事業所数")]


def test_a_deleted_kpi_is_listed_as_deleted_with_no_target(matcher: KpiMatcher) -> None:
    text = "所管\tKPI\t令和7年度\t令和6年度\n業務\tジェネリック医薬品使用割合\t※KPIは削除\t対前年度以上\n"

    draft = read_plan(text, matcher, branch="kagoshima", fiscal_year=2025)

    assert draft.deleted == ["generic_drug_share"]
    assert draft.target_for("generic_drug_share") is None


def test_kpi_sentences_with_list_markers_and_footnotes(matcher: KpiMatcher) -> None:
    text = (
        "■ KPI：\n"
        "① 健康宣言事業所数を 2,100 事業所（※）以上とする\n"
        "② 生活習慣病予防健診実施率を\n65.0％以上とする※1\n"
        "（※）標準化された健康宣言の事業所数\n"
    )

    draft = read_plan(text, matcher, branch="tochigi", fiscal_year=2024)

    offices, checkup = draft.target_for("health_declaration_offices"), draft.target_for("lifestyle_checkup_rate")
    assert offices is not None and (offices.rule, offices.target) == ("fixed_min", Decimal("2100"))
    assert checkup is not None and (checkup.rule, checkup.target) == ("fixed_min", Decimal("65.0"))
    assert offices.name == "健康宣言事業所数"


def test_an_unknown_kpi_is_reported_never_forced(matcher: KpiMatcher) -> None:
    text = "【KPI】メールマガジン登録者数を3,000人以上とする\n"

    draft = read_plan(text, matcher, branch="tochigi", fiscal_year=2024)

    assert draft.targets == [
        DraftTarget(
            kpi=None,
            name="メールマガジン登録者数",
            target_text="3,000人以上とする",
            rule="fixed_min",
            target=Decimal(3000),
        )
    ]
    assert draft.warnings[0] == reader_module.WARN_UNKNOWN_KPI.format(
        name="メールマガジン登録者数", target="3,000人以上とする"
    )


@pytest.mark.parametrize(
    "text",
    [
        "【KPI】健康宣言事業所数を2,000事業所以上とする 1,600事業所以上とする\n",
        "【KPI】健康宣言事業所数を2,000事業所以上とする 1,600事業所以上\n",  # last year's cell beside it
        "■ KPI：\n① 健康宣言事業所数を2,000事業所以上とする　1,600事業所以上\n",
    ],
)
def test_a_kpi_sentence_with_last_years_cell_beside_it_leaves_the_target_empty(
    matcher: KpiMatcher, text: str
) -> None:
    draft = read_plan(text, matcher, branch="tochigi", fiscal_year=2024)

    target = draft.target_for("health_declaration_offices")
    assert target is not None and (target.rule, target.target, target.target_text) == (None, None, "")
    assert len(draft.warnings) == 1 and "複数の目標" in draft.warnings[0]


def test_a_named_year_other_than_last_year_is_refused(matcher: KpiMatcher) -> None:
    draft = read_plan("【KPI】健康宣言事業所数を令和4年度実績以上とする\n", matcher, branch="tochigi", fiscal_year=2025)

    target = draft.target_for("health_declaration_offices")
    assert target is not None and target.rule is None
    assert "2022年度" in draft.warnings[0]


def test_a_document_titled_for_another_year_drafts_no_targets(matcher: KpiMatcher) -> None:
    text = "令和５年度 栃木支部事業計画\n【KPI】健康宣言事業所数を1,330事業所以上とする\n"

    draft = read_plan(text, matcher, branch="tochigi", fiscal_year=2024)

    target = draft.target_for("health_declaration_offices")
    assert target is not None and (target.rule, target.target) == (None, None)
    assert draft.warnings == [reader_module.WARN_OTHER_YEAR.format(stated="令和5年度", year=2024)]
    same_year = read_plan(text, matcher, branch="tochigi", fiscal_year=2023)
    assert same_year.target_for("health_declaration_offices") == DraftTarget(
        kpi="health_declaration_offices",
        name="健康宣言事業所数",
        target_text="1,330事業所以上とする",
        rule="fixed_min",
        target=Decimal(1330),
    )


def test_once_two_targets_disagree_the_target_stays_empty(matcher: KpiMatcher) -> None:
    text = (
        "【KPI】健康宣言事業所数を1,330事業所以上とする\n"
        "【KPI】健康宣言事業所数を1,200事業所以上とする\n"
        "【KPI】健康宣言事業所数を1,330事業所以上とする\n"
    )

    draft = read_plan(text, matcher, branch="tochigi", fiscal_year=2024)

    target = draft.target_for("health_declaration_offices")
    assert target is not None and target.rule is None
    assert draft.warnings == [
        reader_module.WARN_CONFLICT.format(
            name="健康宣言事業所数", first="1,330事業所以上とする", second="1,200事業所以上とする"
        )
    ]


# --------------------------------------------------------------------------------------------------
# Matching names
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "生活習慣病予防健診実施率",
        "生活習慣病予防健診\n実施率",
        "生活習慣病予防健診 実施率",
        "① 生活習慣病予防健診実施率",
        "（１）生活習慣病予防健診実施率",
        "生活習慣病予防健診実施率（※）",
        "生活習慣病予防健診の実施率",  # a small wording change
    ],
)
def test_it_matches_names_despite_breaks_widths_markers_and_small_changes(
    matcher: KpiMatcher, written: str
) -> None:
    assert matcher.match(written) == "lifestyle_checkup_rate"


@pytest.mark.parametrize("written", ["特定保健指導実施率", "健康", "事業所数", ""])
def test_it_matches_nothing_rather_than_a_neighbour(matcher: KpiMatcher, written: str) -> None:
    assert matcher.match(written) is None


def test_name_key_folds_full_width_and_spaces() -> None:
    assert name_key("ＳＮＳ（ＬＩＮＥ 公式アカウント）") == name_key("SNS(LINE公式アカウント)")


# --------------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------------

PLAN_TEXT = (
    "１．基盤的保険者機能の盤石化\n"
    "（１） サービス水準の向上\n"
    "【KPI】健康宣言事業所数を2,100事業所以上とする\n"
    "２．戦略的保険者機能の一層の発揮\n"
    "（１） 健康づくり\n"
    "【KPI】生活習慣病予防健診実施率を65.0％以上とする\n"
)


@pytest.mark.django_db
def test_it_saves_the_plan_measures_and_targets(tmp_path: Path) -> None:
    path = tmp_path / "okinawa.txt"
    path.write_text(PLAN_TEXT, encoding="utf-8")

    output = run(str(path), "--branch", "okinawa", "--fiscal-year", "2025")

    plan = Plan.objects.get(branch__code="okinawa", fiscal_year=2025)
    targets = {t.kpi.code: t for t in plan.targets.all()}
    assert (targets["health_declaration_offices"].rule, targets["health_declaration_offices"].target_value) == (
        "fixed_min",
        Decimal("2100"),
    )
    assert targets["lifestyle_checkup_rate"].target_value == Decimal("65.0")
    assert list(Measure.objects.filter(plan=plan).values_list("area_id", "number", "title")) == [
        (1, "（１）", "サービス水準の向上"),
        (2, "（１）", "健康づくり"),
    ]
    assert "保存しました" in output


@pytest.mark.django_db
def test_it_refuses_a_plan_that_exists_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "okinawa.txt"
    path.write_text(PLAN_TEXT, encoding="utf-8")
    run(str(path), "--branch", "okinawa", "--fiscal-year", "2025")
    targets = KpiTarget.objects.count()

    with pytest.raises(CommandError) as excinfo:
        run(str(path), "--branch", "okinawa", "--fiscal-year", "2025")

    assert str(excinfo.value) == ERROR_PLAN_EXISTS.format(branch="沖縄", year="令和7年度")
    assert KpiTarget.objects.count() == targets


@pytest.mark.django_db
def test_saving_is_all_or_nothing() -> None:
    draft = Draft(branch="okinawa", fiscal_year=2025)
    draft.targets = [
        DraftTarget(kpi="health_declaration_offices", name="健康宣言事業所数", target_text="2,100事業所以上", rule="x"),
        DraftTarget(kpi="lifestyle_checkup_rate", name="名" * 301, target_text="65.0％以上", rule="x"),
    ]

    with pytest.raises(ImportRefused) as excinfo:
        save_draft(draft)

    assert str(excinfo.value).startswith(ERROR_INVALID.format(name="名" * 301, reason="")[:20])
    assert not Plan.objects.filter(branch__code="okinawa", fiscal_year=2025).exists()


@pytest.mark.django_db
def test_it_refuses_an_unknown_branch_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(PLAN_TEXT, encoding="utf-8")

    with pytest.raises(CommandError, match="支部コード「atlantis」"):
        run(str(path), "--branch", "atlantis", "--fiscal-year", "2025", "--dry-run")
    with pytest.raises(CommandError, match="がありません"):
        run(str(tmp_path / "none.pdf"), "--branch", "okinawa", "--fiscal-year", "2025", "--dry-run")


@pytest.mark.django_db
def test_the_fixture_it_writes_loads_as_a_seed(tmp_path: Path) -> None:
    path = tmp_path / "okinawa.txt"
    path.write_text(PLAN_TEXT, encoding="utf-8")
    seed = tmp_path / "seed"
    seed.mkdir()
    shutil.copy(SEED_DIR / "catalog.json", seed / "catalog.json")

    run(str(path), "--branch", "okinawa", "--fiscal-year", "2025", "--dry-run", "--fixture", str(seed / "okinawa.json"))

    data = read_seed(seed)
    assert set(data.plans[("okinawa", 2025)].targets) == {"health_declaration_offices", "lifestyle_checkup_rate"}
