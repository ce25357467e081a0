"""Sessions signed in before kpitrack.auth.MembershipBackend took the place of Django's ModelBackend name the old
backend, which Django no longer accepts (it signs such a session out): they are moved to the new one, so that a
deployment signs nobody out. Backwards, they are moved back."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations

BACKEND_KEY = "_auth_user_backend"
OLD = "django.contrib.auth.backends.ModelBackend"
NEW = "kpitrack.auth.MembershipBackend"


def move_sessions(apps: Any, source: str, target: str) -> int:
    """Rewrite the backend of every live session signed in through ``source``; how many were moved."""
    session_model = apps.get_model("sessions", "Session")
    store = SessionStore()
    moved = 0
    for session in session_model.objects.all().iterator():
        data = store.decode(session.session_data)  # an unreadable session decodes to {} and is left as it is
        if data.get(BACKEND_KEY) != source:
            continue
        data[BACKEND_KEY] = target
        session.session_data = store.encode(data)
        session.save(update_fields=["session_data"])
        moved += 1
    return moved


def forwards(apps: Any, schema_editor: Any) -> None:
    move_sessions(apps, OLD, NEW)


def backwards(apps: Any, schema_editor: Any) -> None:
    move_sessions(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0003_membership_history"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
