from django.urls import path

from plans import views

urlpatterns = [
    path("", views.home, name="home"),
    path("branches/<slug:code>/<int:year>/", views.branch_dashboard, name="branch_dashboard"),
    path("branches/<slug:code>/<int:year>/kpi/<slug:kpi_code>/", views.kpi_detail, name="kpi_detail"),
    path("national/<int:year>/", views.national_matrix, name="national_matrix"),
    path("national/<int:year>/kpi/<slug:kpi_code>/", views.national_kpi, name="national_kpi"),
]
