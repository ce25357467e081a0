from django.apps import AppConfig


class PlansConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "plans"
    verbose_name = "事業計画"

    def ready(self) -> None:
        from plans import signals

        signals.connect()
