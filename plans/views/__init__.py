"""kpitrack's pages, by concern: ``dashboards`` (read), ``plan`` (the plan as written, read)."""

from plans.views.dashboards import branch_dashboard, home, kpi_detail, national_kpi, national_matrix
from plans.views.plan import plan_page

__all__ = ["branch_dashboard", "home", "kpi_detail", "national_kpi", "national_matrix", "plan_page"]
