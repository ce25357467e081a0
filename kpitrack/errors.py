"""Japanese error pages (400/403/404/500) in the site's layout that keep the reason.

The reason is the exception's message when it is a sentence we wrote in Japanese
(``PermissionDenied("この支部のページを見る権限がありません。")``, ``Http404("…の事業計画はありません。")``,
``ExportFormatError``); Django's own English texts ("No Branch matches the given query.", the URL resolver's
dictionary of tried patterns) are never shown: the page falls back to a general Japanese sentence.
Reasons are raised as the Japanese message (the msgid) and translated by the page (``{% translate reason %}``),
so a reason of ours is recognised whatever the visitor's language.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import requires_csrf_token

BAD_REQUEST = gettext_noop("リクエストの内容が正しくありません。入力やURLをご確認ください。")
PERMISSION_DENIED = gettext_noop("このページを見る権限がありません。")
NOT_FOUND = gettext_noop("お探しのページは見つかりませんでした。URLをご確認ください。")
SERVER_ERROR = gettext_noop(
    "サーバーでエラーが発生しました。しばらくしてからもう一度お試しください。問題が続く場合は管理者に連絡してください。"
)

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")  # kana and kanji


def readable_reason(exception: BaseException | None) -> str:
    """The exception's message if it is a Japanese sentence of ours, else ''."""
    message = exception.args[0] if exception is not None and exception.args else None
    if isinstance(message, str) and _JAPANESE.search(message):
        return message
    return ""


def _error_page(
    request: HttpRequest, template: str, status: int, exception: BaseException | None, fallback: str
) -> HttpResponse:
    return render(request, template, {"reason": readable_reason(exception) or fallback}, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return _error_page(request, "400.html", 400, exception, BAD_REQUEST)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return _error_page(request, "403.html", 403, exception, PERMISSION_DENIED)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return _error_page(request, "404.html", 404, exception, NOT_FOUND)


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request: whatever broke (the database, a context processor) must not break this."""
    return HttpResponseServerError(loader.get_template("500.html").render({"reason": SERVER_ERROR}))
