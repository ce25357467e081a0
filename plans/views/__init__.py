"""kpitrack's pages, by concern: ``dashboards`` (read), ``workflow`` (the month's workflow, HQ's status)."""

from plans.views.dashboards import branch_dashboard, home, kpi_detail, national_kpi, national_matrix
from plans.views.workflow import month_transition, report_reminders, report_status

__all__ = [
    "branch_dashboard",
    "home",
    "kpi_detail",
    "month_transition",
    "national_kpi",
    "national_matrix",
    "report_reminders",
    "report_status",
]
