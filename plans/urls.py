from django.urls import path, register_converter

from kpitrack.converters import FiscalYearConverter
from plans.views import dashboards, entry, history, plan, progress, workbooks, workflow

register_converter(FiscalYearConverter, "fiscal_year")  # four digits: a huge year is a 404, not a 500

BRANCH_YEAR = "branches/<slug:code>/<fiscal_year:year>/"
NATIONAL_YEAR = "national/<fiscal_year:year>/"

urlpatterns = [
    path("", dashboards.home, name="home"),
    # one branch
    path(BRANCH_YEAR, dashboards.branch_dashboard, name="branch_dashboard"),
    path(BRANCH_YEAR + "plan/", plan.plan_page, name="plan_page"),
    path(BRANCH_YEAR + "kpi/<slug:kpi_code>/", dashboards.kpi_detail, name="kpi_detail"),
    path(BRANCH_YEAR + "kpi/<slug:kpi_code>/history/", history.kpi_history, name="kpi_history"),
    path(BRANCH_YEAR + "progress/<slug:half>/", progress.progress_entry, name="progress_entry"),
    path(BRANCH_YEAR + "entry/<str:month>/", entry.month_entry, name="month_entry"),
    path(BRANCH_YEAR + "entry/<str:month>/<slug:transition>/", workflow.month_transition, name="month_transition"),
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
