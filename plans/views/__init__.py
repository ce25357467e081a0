"""kpitrack's pages, by concern: ``dashboards`` (read), ``progress`` (measure progress per half-year)."""

from plans.views.dashboards import branch_dashboard, home, kpi_detail, national_kpi, national_matrix
from plans.views.progress import national_progress_list, progress_entry

__all__ = [
    "branch_dashboard",
    "home",
    "kpi_detail",
    "national_kpi",
    "national_matrix",
    "national_progress_list",
    "progress_entry",
]
