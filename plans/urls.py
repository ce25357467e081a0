from django.urls import path, register_converter

from kpitrack.converters import FiscalYearConverter
from plans.views import (
    dashboards,
    entry,
    history,
    phrases,
    plan,
    plan_edit,
    plan_import,
    progress,
    workbooks,
    workflow,
)

register_converter(FiscalYearConverter, "fiscal_year")  # four digits: a huge year is a 404, not a 500

BRANCH_YEAR = "branches/<slug:code>/<fiscal_year:year>/"
NATIONAL_YEAR = "national/<fiscal_year:year>/"

urlpatterns = [
    path("", dashboards.home, name="home"),
    # one branch
    path(BRANCH_YEAR, dashboards.branch_dashboard, name="branch_dashboard"),
    path(BRANCH_YEAR + "plan/", plan.plan_page, name="plan_page"),
    path(BRANCH_YEAR + "plan/import/", plan_import.plan_import_upload, name="plan_import_upload"),
    path(BRANCH_YEAR + "plan/import/review/", plan_import.plan_import_review, name="plan_import_review"),
    path(BRANCH_YEAR + "plan/edit/", plan_edit.plan_edit, name="plan_edit"),
    path(BRANCH_YEAR + "plan/next-year/", plan_edit.plan_next_year, name="plan_next_year"),
    path(BRANCH_YEAR + "plan/targets/add/", plan_edit.target_add, name="plan_target_add"),
    path(BRANCH_YEAR + "plan/targets/<int:pk>/remove/", plan_edit.target_remove, name="plan_target_remove"),
    path(BRANCH_YEAR + "plan/changes/", plan_edit.change_record, name="plan_change_record"),
    path(BRANCH_YEAR + "kpi/<slug:kpi_code>/", dashboards.kpi_detail, name="kpi_detail"),
    path(BRANCH_YEAR + "kpi/<slug:kpi_code>/history/", history.kpi_history, name="kpi_history"),
    path(BRANCH_YEAR + "progress/<slug:half>/", progress.progress_entry, name="progress_entry"),
    path(BRANCH_YEAR + "entry/<str:month>/", entry.month_entry, name="month_entry"),
    path(BRANCH_YEAR + "entry/<str:month>/<slug:transition>/", workflow.month_transition, name="month_transition"),
    path("plans/parse-target/", phrases.parse_target, name="parse_target"),
    path(BRANCH_YEAR + "workbook.xlsx", workbooks.published_download, name="workbook_published"),
    path(BRANCH_YEAR + "workbook/template.xlsx", workbooks.template_download, name="workbook_template"),
    path(BRANCH_YEAR + "workbook/import/", workbooks.workbook_upload, name="workbook_upload"),
    # every branch (headquarters)
    path(NATIONAL_YEAR, dashboards.national_matrix, name="national_matrix"),
    path(NATIONAL_YEAR + "kpi/<slug:kpi_code>/", dashboards.national_kpi, name="national_kpi"),
    path(NATIONAL_YEAR + "progress/<slug:half>/", progress.national_progress_list, name="national_progress"),
    path(NATIONAL_YEAR + "status/", workflow.report_status, name="report_status"),
    path(NATIONAL_YEAR + "workbook.xlsx", workbooks.national_download, name="workbook_national"),
    path(NATIONAL_YEAR + "status/remind/", workflow.report_reminders, name="report_reminders"),
]
