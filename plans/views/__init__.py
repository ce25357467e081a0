"""kpitrack's pages, by concern: ``dashboards`` (read), ``history`` (a KPI's history and restore)."""

from plans.views.dashboards import branch_dashboard, home, kpi_detail, national_kpi, national_matrix
from plans.views.history import kpi_history

__all__ = ["branch_dashboard", "home", "kpi_detail", "kpi_history", "national_kpi", "national_matrix"]
