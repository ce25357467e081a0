from __future__ import annotations

from django.apps import AppConfig


class KpitrackConfig(AppConfig):
    """The project package as an app: its signal receivers and its operations commands (backup_db, restore_db)."""

    name = "kpitrack"
    verbose_name = "kpitrack"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from kpitrack.middleware import start_idle_clock

        user_logged_in.connect(start_idle_clock, dispatch_uid="kpitrack.start_idle_clock")
