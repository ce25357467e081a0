from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("plans.urls")),
]

# Japanese error pages in the site's layout that keep the reason (kpitrack/errors.py).
handler400 = "kpitrack.errors.bad_request"
handler403 = "kpitrack.errors.permission_denied"
handler404 = "kpitrack.errors.page_not_found"
handler500 = "kpitrack.errors.server_error"
