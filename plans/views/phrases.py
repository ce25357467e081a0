"""The one live reading of a target phrase (JSON), for every page where a target is typed (plan import, plan edit).

Global (not under a plan): an import has no plan yet. The page passes the plan's year.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from branches import access
from plans.phrases import read_phrase

CANNOT_PARSE_YEAR = "年度は西暦4桁で指定してください（例: 2025）。"


@require_GET
@login_required
def parse_target(request: HttpRequest) -> JsonResponse:
    """``?text=…&year=YYYY`` → ``PhraseReading.as_json()``: how kpitrack reads the phrase for a plan of that year.

    For users who manage some branch's plan (its staff and manager) and superusers; 403 for others, 400 on a bad year.
    """
    if not access.holds_anywhere(request.user, access.Permission.MANAGE_PLAN):
        raise PermissionDenied(access.MANAGE_PLAN_DENIED)
    raw_year = request.GET.get("year", "")
    if raw_year and not (raw_year.isdigit() and len(raw_year) == 4):
        return JsonResponse({"ok": False, "error": CANNOT_PARSE_YEAR}, status=400)
    reading = read_phrase(request.GET.get("text", ""), int(raw_year) if raw_year else None)
    return JsonResponse(reading.as_json())
