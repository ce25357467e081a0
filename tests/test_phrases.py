"""plans.phrases.read_phrase and its one endpoint (``parse_target``): how kpitrack reads a target phrase, the same on
the plan import's review and on the plan edit page."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.urls import reverse

from branches.models import Branch
from plans import phrases, planning
from plans.imports.review import ERROR_TARGET, Review, ReviewLine
from plans.models import FiscalYear
from plans.phrases import PhraseReading, read_phrase
from plans.rules import REASON_KPI_DELETED, REASON_NOT_LAST_YEAR, REASON_TWO_TARGETS
from plans.views import phrases as phrase_views
from tests.conftest import client_for
from tests.factories import KpiTargetFactory, PlanFactory, UserFactory
from tests.test_plan_import_views import paste, review_form, review_url, stored_review

YEAR = 2026  # no branch has a plan for it (tests/test_plan_import_views.py)
URL = "/plans/parse-target/"


# -- read_phrase ---------------------------------------------------------------------------------------------------


def test_it_reads_a_phrase_with_its_figures_in_words() -> None:
    assert read_phrase("対前年度（93.3％）以上", 2026) == PhraseReading(
        ok=True,
        kind="yoy_min",
        label="対前年度以上",
        summary="対前年度以上・基準値 93.3%",
        baseline=Decimal("93.3"),
        unit="%",
    )
    assert read_phrase("2,100事業所以上", 2026).summary == "固定値以上・目標値 2100事業所"
    assert read_phrase("実施", None).summary == "実施"
    assert read_phrase("令和6年度実績以上", 2025).summary == "対前年度以上・令和6年度の実績が基準"


def test_it_reads_an_empty_phrase_as_no_rule_and_no_error() -> None:
    for text in ("", "   "):
        assert read_phrase(text, 2026) == PhraseReading(ok=True, summary=phrases.SUMMARY_EMPTY)


def test_it_reads_a_no_target_phrase_as_the_none_rule() -> None:
    reading = read_phrase("設定なし", 2026)
    assert (reading.ok, reading.kind, reading.label) == (True, "none", "設定なし")
    assert reading.summary == phrases.SUMMARY_NONE


def test_it_gives_the_whole_reason_naming_the_phrase() -> None:
    reading = read_phrase("① 65.0％以上 60.0％以上", 2026)
    assert (reading.ok, reading.kind) == (False, None)
    assert reading.error == f"目標「① 65.0％以上 60.0％以上」を読み取れません: {REASON_TWO_TARGETS}"


def test_it_checks_a_named_year_against_the_plans_year_only_when_given() -> None:
    assert read_phrase("令和4年度実績以上", None).ok
    refused = read_phrase("令和4年度実績以上", 2024)
    reason = REASON_NOT_LAST_YEAR.format(named=2022, previous=2023)
    assert refused.error == f"目標「令和4年度実績以上」を読み取れません: {reason}"


def test_it_refuses_an_overlong_phrase_with_its_length() -> None:
    limit = phrases.PHRASE_LIMIT
    too_long = phrases.PHRASE_TOO_LONG.format(limit=limit, length=limit + 3)
    assert read_phrase("1" * limit + "%以上", 2026).error == too_long
    assert read_phrase(f"  {'1' * (limit - 3)}%以上  ", 2026).ok  # surrounding spaces are not counted


def test_it_refuses_a_deleted_kpi_as_a_target_saying_how_to_record_the_deletion() -> None:
    reading = read_phrase("※KPIは削除", 2026)
    assert reading == PhraseReading(
        ok=False, error=phrases.PHRASE_KPI_DELETED.format(typed="※KPIは削除"), deleted=True
    )
    assert "計画から外す" in reading.error and "除外" in reading.error


def test_the_json_gives_figures_as_written() -> None:
    assert read_phrase("96.0％以上", 2026).as_json() == {
        "ok": True,
        "kind": "fixed_min",
        "label": "固定値以上",
        "summary": "固定値以上・目標値 96.0%",
        "value": "96.0",
        "baseline": None,
        "unit": "%",
        "error": None,
        "deleted": False,
    }


# -- the import review and the edit path read through it -----------------------------------------------------------


def test_the_import_review_refuses_a_phrase_with_the_readings_message() -> None:
    review = Review(branch="tochigi", fiscal_year=YEAR, source="x", text="")
    review.lines = [
        ReviewLine(kpi="a", name="甲", target_text="たくさん"),
        ReviewLine(kpi="b", name="乙", target_text="※KPIは削除"),
        ReviewLine(kpi="c", name="丙", target_text=""),
    ]

    errors = review.errors({"a", "b", "c"})

    assert errors == [
        ERROR_TARGET.format(row=1, name="甲", error=read_phrase("たくさん", YEAR).error),
        ERROR_TARGET.format(row=2, name="乙", error=phrases.PHRASE_KPI_DELETED.format(typed="※KPIは削除")),
    ]
    assert "読み取れません" in errors[0] and REASON_KPI_DELETED not in errors[1]
    assert [t.rule for t in review.to_draft().targets] == [None, None, None]  # unread and empty: no rule


@pytest.mark.django_db
def test_saving_a_deleted_kpi_phrase_in_the_editor_names_the_kpi(tochigi: Branch) -> None:
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYear.objects.get_or_create(year=2031)[0])
    target = KpiTargetFactory(plan=plan, target_text="50%以上")
    edit = planning.TargetEdit(target, "※KPIは削除", "50%以上")

    planning.targets_update([edit], user=UserFactory(username="deleter", is_superuser=True))

    assert edit.error == planning.TARGET_DELETED_PHRASE.format(kpi=target.kpi.name, typed="※KPIは削除")


PHRASES = [
    "2,100事業所以上",
    "対前年度（93.3％）以上",
    "令和7年度実績以上",
    "令和4年度実績以上",
    "実施",
    "設定なし",
    "",
    "たくさん",
    "① 65.0％以上 60.0％以上",
    "※KPIは削除",
]


def _cell(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:td|output)>', page, re.S)
    assert match, element_id
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


@pytest.mark.django_db
def test_the_import_review_and_the_edit_page_show_the_same_reading(
    tochigi_staff: AbstractBaseUser, tochigi: Branch
) -> None:
    client = client_for(tochigi_staff)
    paste(client)
    review, token = stored_review(client)
    plan = PlanFactory(branch=tochigi, fiscal_year=FiscalYear.objects.get_or_create(year=YEAR)[0])
    target = KpiTargetFactory(plan=plan, target_text="")
    edit_url = reverse("plan_edit", kwargs={"code": "tochigi", "year": YEAR})

    for phrase in PHRASES:
        expected = read_phrase(phrase, YEAR)
        shown = expected.summary if expected.ok else expected.error
        client.post(review_url(), review_form(review, token, **{"line-0-target_text": phrase, "action": "update"}))
        target.target_text = phrase
        target.save()

        imported = _cell(client.get(review_url()).content.decode(), "parse-0")
        edited = _cell(client.get(edit_url).content.decode(), f"t{target.pk}-parse")
        answered = client.get(URL, {"text": phrase, "year": YEAR}).json()

        assert imported == edited == shown, phrase
        assert answered == expected.as_json()


# -- the endpoint --------------------------------------------------------------------------------------------------


def test_the_endpoint_is_the_global_url() -> None:
    assert reverse("parse_target") == URL


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["tochigi_staff", "tochigi_manager", "gifu_staff", "superuser"])
def test_the_endpoint_answers_whoever_manages_some_branchs_plan(
    request: pytest.FixtureRequest, persona: str
) -> None:
    user = (
        UserFactory(username="root", is_superuser=True, is_staff=True)
        if persona == "superuser"
        else request.getfixturevalue(persona)
    )
    response = client_for(user).get(URL, {"text": "対前年度（96.1％）以上とする", "year": "2025"})

    assert response.status_code == 200
    assert response.json() == read_phrase("対前年度（96.1％）以上とする", 2025).as_json()
    assert response.json()["baseline"] == "96.1"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["hq_manager", "outsider"])
def test_the_endpoint_is_403_for_others(request: pytest.FixtureRequest, persona: str) -> None:
    response = client_for(request.getfixturevalue(persona)).get(URL, {"text": "1%以上"})
    assert response.status_code == 403
    assert "この支部の事業計画を編集する権限がありません" in response.content.decode()


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login_page() -> None:
    response = Client().get(URL, {"text": "実施"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_endpoint_is_get_only(tochigi_staff: AbstractBaseUser, method: str) -> None:
    assert getattr(client_for(tochigi_staff), method)(URL).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("year", ["20x5", "202", "20255", "-2025"])
def test_a_bad_year_is_400_with_the_reason(tochigi_staff: AbstractBaseUser, year: str) -> None:
    response = client_for(tochigi_staff).get(URL, {"text": "1%以上", "year": year})
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": phrase_views.CANNOT_PARSE_YEAR}


@pytest.mark.django_db
def test_the_endpoint_checks_the_named_year_against_the_year_given(tochigi_staff: AbstractBaseUser) -> None:
    client = client_for(tochigi_staff)
    assert client.get(URL, {"text": "令和4年度実績以上"}).json()["ok"] is True
    assert client.get(URL, {"text": "令和4年度実績以上", "year": "2024"}).json()["ok"] is False


@pytest.mark.django_db
def test_the_endpoint_reads_empty_overlong_and_unreadable_phrases(tochigi_staff: AbstractBaseUser) -> None:
    client = client_for(tochigi_staff)

    empty = client.get(URL, {"year": "2031"}).json()
    overlong = client.get(URL, {"text": "1" * 201, "year": "2031"}).json()
    unreadable = client.get(URL, {"text": "たくさん", "year": "2031"}).json()

    assert (empty["ok"], empty["kind"], empty["error"], empty["summary"]) == (True, None, None, phrases.SUMMARY_EMPTY)
    assert overlong["error"] == phrases.PHRASE_TOO_LONG.format(limit=200, length=201)
    assert unreadable["ok"] is False and unreadable["error"].startswith("目標「たくさん」を読み取れません")
