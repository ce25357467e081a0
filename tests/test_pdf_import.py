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
