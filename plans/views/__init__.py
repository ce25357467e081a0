"""kpitrack's pages, by concern: ``dashboards`` (read)."""

from plans.views.dashboards import branch_dashboard, home, kpi_detail, national_kpi, national_matrix

__all__ = ["branch_dashboard", "home", "kpi_detail", "national_kpi", "national_matrix"]
