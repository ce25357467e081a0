from django.urls import path, register_converter

from kpitrack.converters import FiscalYearConverter
from plans import views

register_converter(FiscalYearConverter, "fiscal_year")  # four digits: a huge year is a 404, not a 500

urlpatterns = [
    path("", views.home, name="home"),
    path("branches/<slug:code>/<fiscal_year:year>/", views.branch_dashboard, name="branch_dashboard"),
    path("branches/<slug:code>/<fiscal_year:year>/plan/", views.plan_page, name="plan_page"),
    path("branches/<slug:code>/<fiscal_year:year>/kpi/<slug:kpi_code>/", views.kpi_detail, name="kpi_detail"),
    path("national/<fiscal_year:year>/", views.national_matrix, name="national_matrix"),
    path("national/<fiscal_year:year>/kpi/<slug:kpi_code>/", views.national_kpi, name="national_kpi"),
]
