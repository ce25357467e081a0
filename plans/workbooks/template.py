"""The entry template of a branch × fiscal year: the figures sheet alone (every KPI a row, every month a column,
numerator and denominator rows for a rate, targets read-only), pre-filled with the figures saved so far."""

from __future__ import annotations

from django.utils import timezone
from openpyxl import Workbook

from plans.models import Plan
from plans.results import KpiResult
from plans.workbooks import layout
from plans.workbooks.figures_sheet import plan_actuals, write_figures_sheet
from plans.workbooks.published import workbook_title


def template_workbook(plan: Plan, results: list[KpiResult]) -> Workbook:
    read_at = timezone.now()  # before the figures sheet reads the actuals
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = workbook_title(plan, "実績入力用テンプレート")
    workbook.properties.creator = "kpitrack"
    write_figures_sheet(workbook, plan, results, plan_actuals(plan), title=workbook_title(plan, "実績入力"))
    layout.write_meta(
        workbook, layout.Kind.TEMPLATE, read_at=read_at, branch=plan.branch.code, fiscal_year=plan.fiscal_year_id
    )
    return workbook


def template_filename(plan: Plan) -> str:
    return f"kpitrack_{plan.branch.code}_{plan.fiscal_year_id}_template.xlsx"
