"""kpitrack's pages, by concern: ``dashboards`` (read), ``entry`` (the month screen)."""

from plans.views.dashboards import branch_dashboard, home, kpi_detail, national_kpi, national_matrix
from plans.views.entry import month_entry

__all__ = ["branch_dashboard", "home", "kpi_detail", "month_entry", "national_kpi", "national_matrix"]
