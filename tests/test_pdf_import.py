"""import_plan reads a PDF: a small Japanese plan drawn with reportlab's built-in CID font (no font files)
gives the same draft as its text."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from plans.imports.pdf import extract_text

reportlab = pytest.importorskip("reportlab")

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

FONT = "HeiseiKakuGo-W5"

#: One page of a plan: area and measure headings, KPI sentences (one over two lines, one with ① and ※),
#: and a KPI table with this year's column beside last year's.
PLAN_LINES = [
    "令和７年度 沖縄支部事業計画",
    "１．基盤的保険者機能の盤石化",
    "（１） サービス水準の向上",
    "■ KPI：",
    "① サービススタンダードの達成状況を100％とする",
    "② 現金給付等の申請に係る郵送化率を",
    "対前年度（96.1％）以上とする",
    "２．戦略的保険者機能の一層の発揮",
    "（１） 健康づくり",
    "【KPI】健康宣言事業所数を1,310事業所（※）以上とする",
    "（※）標準化された健康宣言の事業所数",
    "令和7年度 KPI 令和6年度 KPI",
    "生活習慣病予防健診実施率 60.3％以上 59.0％以上",
    "３．組織・運営体制関係",
    "（１） 費用対効果を踏まえたコスト削減",
    "【KPI】一般競争入札に占める一者応札案件の割合について、15％以下とする",
]


def draw_pdf(path: Path, lines: list[str]) -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont(FONT, 10)
    y = A4[1] - 50
    for line in lines:
        page.drawString(40, y, line)
        y -= 18
    page.showPage()
    page.save()


def dry_run(path: Path) -> dict[str, object]:
    out = StringIO()
    call_command(
        "import_plan", str(path), "--branch", "okinawa", "--fiscal-year", "2025", "--dry-run", "--json", stdout=out
    )
    return json.loads(out.getvalue())


def test_it_extracts_the_pdfs_lines_in_order(tmp_path: Path) -> None:
    pdf = tmp_path / "plan.pdf"
    draw_pdf(pdf, PLAN_LINES)

    lines = [line.strip() for line in extract_text(pdf).splitlines() if line.strip()]

    assert [line.replace(" ", "") for line in lines] == [line.replace(" ", "") for line in PLAN_LINES]


@pytest.mark.django_db
def test_a_pdf_gives_the_same_draft_as_its_text(tmp_path: Path) -> None:
    pdf, text = tmp_path / "plan.pdf", tmp_path / "plan.txt"
    draw_pdf(pdf, PLAN_LINES)
    text.write_text("\n".join(PLAN_LINES) + "\n", encoding="utf-8")

    from_pdf, from_text = dry_run(pdf), dry_run(text)

    assert from_pdf == from_text
    targets = {entry["kpi"]: (entry["rule"], entry["target"], entry["baseline"]) for entry in from_pdf["targets"]}
    assert targets == {
        "service_standard_rate": ("exact", 100, None),
        "mail_application_rate": ("yoy_min", None, 96.1),
        "health_declaration_offices": ("fixed_min", 1310, None),
        "lifestyle_checkup_rate": (None, None, None),  # two years' columns: left to the admin
        "single_bid_ratio": ("fixed_max", 15, None),
    }
    assert len(from_pdf["warnings"]) == 1 and "生活習慣病予防健診実施率" in from_pdf["warnings"][0]
    assert [(m["area"], m["title"]) for m in from_pdf["measures"]] == [
        (1, "サービス水準の向上"),
        (2, "健康づくり"),
        (3, "費用対効果を踏まえたコスト削減"),
    ]


@pytest.mark.django_db
def test_a_broken_pdf_is_refused_with_its_name(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot a pdf at all")

    with pytest.raises(CommandError, match="broken.pdf"):
        dry_run(broken)


# --------------------------------------------------------------------------------------------------
# A KPI table with this year's column beside last year's, cells placed by position
# --------------------------------------------------------------------------------------------------

#: (x of each cell, the cells) per row; the header names two fiscal years in columns of their own.
NAME_X, THIS_YEAR_X, LAST_YEAR_X = 40, 280, 420
TABLE_ROWS: list[list[tuple[float, str]]] = [
    [(NAME_X, "令和７年度 沖縄支部事業計画")],
    [(NAME_X, "２．戦略的保険者機能の一層の発揮")],
    [(NAME_X, "KPI"), (THIS_YEAR_X, "令和７年度 KPI"), (LAST_YEAR_X, "令和６年度 KPI")],
    [(NAME_X, "生活習慣病予防健診実施率"), (THIS_YEAR_X, "60.3％以上"), (LAST_YEAR_X, "59.0％以上")],
    [(NAME_X, "健康宣言事業所数"), (THIS_YEAR_X, "1,400事業所以上"), (LAST_YEAR_X, "1,310事業所以上")],
    [(NAME_X, "ジェネリック医薬品使用割合"), (LAST_YEAR_X, "80.0％以上")],
]


def draw_positioned_pdf(path: Path, rows: list[list[tuple[float, str]]]) -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    page = canvas.Canvas(str(path), pagesize=A4)
    page.setFont(FONT, 10)
    y = A4[1] - 50
    for row in rows:
        for x, text in row:
            page.drawString(x, y, text)
        y -= 18
    page.showPage()
    page.save()


def test_it_keeps_a_fiscal_years_tables_cells_apart_by_their_columns(tmp_path: Path) -> None:
    pdf = tmp_path / "table.pdf"
    draw_positioned_pdf(pdf, TABLE_ROWS)

    lines = extract_text(pdf).splitlines()

    assert lines[2] == "KPI\t令和７年度 KPI\t令和６年度 KPI"
    assert lines[3] == "生活習慣病予防健診実施率\t60.3％以上\t59.0％以上"
    assert lines[5] == "ジェネリック医薬品使用割合\t\t80.0％以上"  # this year's cell is blank, not last year's
    assert lines[:2] == ["令和７年度 沖縄支部事業計画", "２．戦略的保険者機能の一層の発揮"]


@pytest.mark.django_db
def test_the_draft_takes_this_years_column_and_never_last_years(tmp_path: Path) -> None:
    pdf = tmp_path / "table.pdf"
    draw_positioned_pdf(pdf, TABLE_ROWS)

    draft = dry_run(pdf)

    targets = {e["kpi"]: (e["rule"], e["target"], e["previous_target_text"]) for e in draft["targets"]}
    assert targets["lifestyle_checkup_rate"] == ("fixed_min", 60.3, "59.0％以上")
    assert targets["health_declaration_offices"] == ("fixed_min", 1400, "1,310事業所以上")
    assert targets["generic_drug_share"] == (None, None, None)  # only last year's cell: left to the admin
    assert any("ジェネリック医薬品使用割合" in message for message in draft["warnings"])


@pytest.mark.django_db
def test_a_header_with_no_name_column_still_places_the_names_left_of_the_years(tmp_path: Path) -> None:
    pdf = tmp_path / "table.pdf"
    rows = [row if row[0][1] != "KPI" else row[1:] for row in TABLE_ROWS]
    draw_positioned_pdf(pdf, rows)

    assert extract_text(pdf).splitlines()[2] == "\t令和７年度 KPI\t令和６年度 KPI"
    targets = {e["kpi"]: (e["rule"], e["target"]) for e in dry_run(pdf)["targets"]}
    assert targets["lifestyle_checkup_rate"] == ("fixed_min", 60.3)


@pytest.mark.django_db
def test_a_cell_standing_under_no_year_column_gives_a_warning_and_no_target(tmp_path: Path) -> None:
    """A figure between the two years' columns: the reader cannot tell whose it is."""
    pdf = tmp_path / "table.pdf"
    between = (THIS_YEAR_X + LAST_YEAR_X) / 2 + 10
    row = [(NAME_X, "生活習慣病予防健診実施率"), (between, "60.3％以上"), (LAST_YEAR_X + 60, "59.0％以上")]
    rows = [*TABLE_ROWS[:3], row]
    draw_positioned_pdf(pdf, rows)

    draft = dry_run(pdf)

    targets = {e["kpi"]: (e["rule"], e["target"]) for e in draft["targets"]}
    assert targets["lifestyle_checkup_rate"] == (None, None)
    assert any("生活習慣病予防健診実施率" in message for message in draft["warnings"])


@pytest.mark.django_db
def test_a_table_of_two_other_years_gives_no_target(tmp_path: Path) -> None:
    """Last year's plan beside the year before: read for this year, no column is this year's."""
    pdf = tmp_path / "table.pdf"
    rows = [
        [(NAME_X, "２．戦略的保険者機能の一層の発揮")],
        [(NAME_X, "KPI"), (THIS_YEAR_X, "令和６年度 KPI"), (LAST_YEAR_X, "令和５年度 KPI")],
        [(NAME_X, "生活習慣病予防健診実施率"), (THIS_YEAR_X, "59.0％以上"), (LAST_YEAR_X, "58.0％以上")],
    ]
    draw_positioned_pdf(pdf, rows)

    draft = dry_run(pdf)

    targets = {e["kpi"]: (e["rule"], e["target"]) for e in draft["targets"]}
    assert targets["lifestyle_checkup_rate"] == (None, None)
    assert any("生活習慣病予防健診実施率" in message for message in draft["warnings"])


@pytest.mark.django_db
def test_this_years_actual_column_is_never_read_as_its_target(tmp_path: Path) -> None:
    pdf = tmp_path / "table.pdf"
    rows = [
        [(NAME_X, "２．戦略的保険者機能の一層の発揮")],
        [(NAME_X, "KPI"), (220, "令和７年度 目標"), (340, "令和７年度 実績"), (460, "令和６年度 目標")],
        [(NAME_X, "生活習慣病予防健診実施率"), (220, "60.3％以上"), (340, "61.0％以上"), (460, "59.0％以上")],
    ]
    draw_positioned_pdf(pdf, rows)

    targets = {e["kpi"]: (e["rule"], e["target"]) for e in dry_run(pdf)["targets"]}

    assert targets["lifestyle_checkup_rate"] == ("fixed_min", 60.3)


@pytest.mark.django_db
def test_a_year_heading_two_columns_gives_a_warning_and_no_target(tmp_path: Path) -> None:
    """「令和7年度 | 令和7年度」 with 目標 and 実績 on the line below: the reader cannot tell which is the target."""
    pdf = tmp_path / "table.pdf"
    rows = [
        [(NAME_X, "２．戦略的保険者機能の一層の発揮")],
        [(NAME_X, "KPI"), (220, "令和７年度"), (340, "令和７年度"), (460, "令和６年度")],
        [(220, "実績"), (340, "目標"), (460, "目標")],
        [(NAME_X, "生活習慣病予防健診実施率"), (220, "58.2％以上"), (340, "60.3％以上"), (460, "59.0％以上")],
    ]
    draw_positioned_pdf(pdf, rows)

    draft = dry_run(pdf)

    targets = {e["kpi"]: (e["rule"], e["target"]) for e in draft["targets"]}
    assert targets["lifestyle_checkup_rate"] == (None, None)
    assert any("生活習慣病予防健診実施率" in message for message in draft["warnings"])
