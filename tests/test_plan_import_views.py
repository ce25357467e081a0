"""Plans in, in the browser: upload (PDF or pasted text) → review beside the source → correct → confirm.

Nothing is saved before the confirmation; the browser builds the same draft as import_plan from the same input.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from branches.models import Branch
from plans import forms_import
from plans.imports import pdf as pdf_module
from plans.imports import review as review_module
from plans.imports.review import Review
from plans.imports.save import ERROR_PLAN_EXISTS
from plans.models import KpiTarget, Measure, Plan
from plans.views import plan_import
from tests.conftest import client_for
from tests.factories import BranchFactory, FiscalYearFactory, PlanFactory, UserFactory, member

SEEDS = Path(settings.BASE_DIR).parent / "shared" / "seeds"
YEAR = 2026  # no branch has a plan for it

PLAN_TEXT = (
    "１．基盤的保険者機能の盤石化\n"
    "（１） サービス水準の向上\n"
    "【KPI】健康宣言事業所数を2,100事業所以上とする\n"
    "２．戦略的保険者機能の一層の発揮\n"
    "（１） 健康づくり\n"
    "【KPI】生活習慣病予防健診実施率を65.0％以上とする\n"
    "【KPI】メールマガジン登録者数を3,000人以上とする\n"
)


def upload_url(code: str = "tochigi", year: int = YEAR) -> str:
    return reverse("plan_import_upload", args=[code, year])


def review_url(code: str = "tochigi", year: int = YEAR) -> str:
    return reverse("plan_import_review", args=[code, year])


def counts() -> tuple[int, int, int]:
    return Plan.objects.count(), KpiTarget.objects.count(), Measure.objects.count()


def stored_review(client: Client, code: str = "tochigi", year: int = YEAR) -> tuple[Review, str]:
    stored = client.session[plan_import.SESSION_KEY.format(code=code, year=year)]
    return Review.from_data(stored["review"]), stored["token"]


def review_form(review: Review, token: str, **changes: str) -> dict[str, str]:
    """The review form as the browser posts it unchanged, with ``changes`` applied (None-like "" clears)."""
    data = {"token": token}
    for index, line in enumerate(review.lines):
        data[f"line-{index}-kpi"] = line.kpi or ""
        data[f"line-{index}-target_text"] = line.target_text
        if line.dropped:
            data[f"line-{index}-drop"] = "on"
    for index, measure in enumerate(review.measures):
        data[f"measure-{index}-area"] = str(measure.area)
        data[f"measure-{index}-number"] = measure.number
        data[f"measure-{index}-title"] = measure.title
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def paste(client: Client, text: str = PLAN_TEXT, code: str = "tochigi", year: int = YEAR) -> Any:
    return client.post(upload_url(code, year), {"text": text})


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def cli_draft(path: Path, code: str, year: int) -> dict[str, Any]:
    out = StringIO()
    call_command(
        "import_plan", str(path), "--branch", code, "--fiscal-year", str(year), "--dry-run", "--json", stdout=out
    )
    return json.loads(out.getvalue())


def browser_draft(client: Client, code: str, year: int) -> dict[str, Any]:
    """The stored review before any correction, as the CLI's JSON (warnings gathered back from the lines)."""
    review, _ = stored_review(client, code, year)
    data = review.to_draft().as_json()
    data["warnings"] = review.warnings + [warning for line in review.lines for warning in line.warnings]
    return data


def same_draft(browser: dict[str, Any], cli: dict[str, Any]) -> None:
    assert {key: value for key, value in browser.items() if key != "warnings"} == {
        key: value for key, value in cli.items() if key != "warnings"
    }
    assert Counter(browser["warnings"]) == Counter(cli["warnings"])


@pytest.fixture
def superuser() -> AbstractBaseUser:
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def staff_client(tochigi_staff: AbstractBaseUser) -> Client:
    return client_for(tochigi_staff)


# --------------------------------------------------------------------------------------------------
# Who may import, and how
# --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("tochigi_staff", 200),
        ("tochigi_manager", 200),
        ("superuser", 200),
        ("gifu_staff", 403),
        ("hq_manager", 403),
        ("outsider", 403),
    ],
)
def test_it_lets_only_the_branchs_staff_manager_and_superusers_import(
    request: pytest.FixtureRequest, persona: str, status: int
) -> None:
    client = client_for(request.getfixturevalue(persona))

    assert client.get(upload_url()).status_code == status
    assert paste(client).status_code == (302 if status == 200 else status)
    assert client.get(review_url()).status_code == (200 if status == 200 else status)


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login_page(tochigi: Branch) -> None:
    for url in (upload_url(), review_url()):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_other_methods_are_refused(staff_client: Client) -> None:
    assert staff_client.put(upload_url()).status_code == 405
    assert staff_client.delete(review_url()).status_code == 405


@pytest.mark.django_db
def test_an_unknown_branch_is_a_404(superuser: AbstractBaseUser) -> None:
    assert client_for(superuser).get(upload_url("atlantis")).status_code == 404


# --------------------------------------------------------------------------------------------------
# Reading: the same draft as import_plan
# --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pasted_seed_text_gives_the_clis_draft_and_saves_nothing(superuser: AbstractBaseUser) -> None:
    path = SEEDS / "001_1a96f4371dfdfb7e.txt"
    if not path.is_file():
        pytest.skip("seed document absent")
    Plan.objects.filter(branch__code="kagoshima", fiscal_year=2025).delete()
    client = client_for(superuser)
    before = counts()

    response = paste(client, path.read_text(encoding="utf-8"), "kagoshima", 2025)

    assert response.status_code == 302 and response["Location"] == review_url("kagoshima", 2025)
    same_draft(browser_draft(client, "kagoshima", 2025), cli_draft(path, "kagoshima", 2025))
    page = client.get(review_url("kagoshima", 2025))
    assert page.status_code == 200
    assert "健康宣言事業所数" in page.content.decode() and 'id="src-1"' in page.content.decode()
    assert counts() == before


@pytest.mark.django_db
def test_an_uploaded_pdf_gives_the_clis_draft_from_the_same_file(tmp_path: Path, superuser: AbstractBaseUser) -> None:
    from tests.test_pdf_import import PLAN_LINES, draw_pdf

    pdf = tmp_path / "okinawa.pdf"
    draw_pdf(pdf, PLAN_LINES)
    client = client_for(superuser)

    response = client.post(
        upload_url("okinawa", 2025), {"document": SimpleUploadedFile("okinawa.pdf", pdf.read_bytes())}
    )

    assert response.status_code == 302
    browser = browser_draft(client, "okinawa", 2025)
    same_draft(browser, cli_draft(pdf, "okinawa", 2025))
    review, _ = stored_review(client, "okinawa", 2025)
    assert review.source == "okinawa.pdf"
    checkup = next(line for line in review.lines if line.kpi == "lifestyle_checkup_rate")
    assert checkup.target_text == "" and "生活習慣病予防健診実施率" in checkup.warnings[0]
    page = client.get(review_url("okinawa", 2025)).content.decode()
    assert checkup.warnings[0] in page


@pytest.mark.django_db
def test_the_review_shows_each_rule_and_flags_the_unmatched_line(staff_client: Client) -> None:
    paste(staff_client)

    page = staff_client.get(review_url()).content.decode()

    assert "固定値以上" in page and "目標値 2100" in page and "目標値 65.0" in page
    assert "カタログと一致しません" in page
    warning = review_module.ERROR_UNMATCHED.format(row=3, name="メールマガジン登録者数")
    assert warning in page  # what blocks the save is listed before the admin presses it


# --------------------------------------------------------------------------------------------------
# Correcting and confirming
# --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_confirm_with_an_unmatched_line_is_refused_and_saves_nothing(staff_client: Client) -> None:
    paste(staff_client)
    review, token = stored_review(staff_client)
    before = counts()

    response = staff_client.post(review_url(), review_form(review, token, action="confirm"))

    assert response.status_code == 400
    assert review_module.ERROR_UNMATCHED.format(row=3, name="メールマガジン登録者数") in response.content.decode()
    assert counts() == before


@pytest.mark.django_db
def test_confirm_saves_exactly_the_corrected_draft(staff_client: Client) -> None:
    paste(staff_client)
    review, token = stored_review(staff_client)
    assert [line.kpi for line in review.lines] == ["health_declaration_offices", "lifestyle_checkup_rate", None]
    before = counts()

    # Correct without saving: the unmatched line becomes a catalog KPI, a phrase is edited, a measure renamed.
    changes = {
        "line-2-kpi": "insured_guidance_rate",
        "line-2-target_text": "20.0％以上",
        "line-0-target_text": "2,200事業所以上",
        "measure-1-title": "健康づくりの推進",
        "measure-new-area": "3",
        "measure-new-number": "（１）",
        "measure-new-title": "人材育成",
        "action": "update",
    }
    response = staff_client.post(review_url(), review_form(review, token, **changes))
    assert response.status_code == 302 and response["Location"] == review_url()
    assert counts() == before
    page = staff_client.get(review_url()).content.decode()
    assert "目標値 2200" in page and "人材育成" in page

    review, token = stored_review(staff_client)
    response = staff_client.post(review_url(), review_form(review, token, **{"line-1-drop": "on", "action": "confirm"}))

    assert response.status_code == 302 and response["Location"] == reverse("plan_page", args=["tochigi", YEAR])
    plan = Plan.objects.get(branch__code="tochigi", fiscal_year=YEAR)
    saved = {
        t.kpi.code: (t.name_as_written, t.target_text, t.rule, t.target_value)
        for t in KpiTarget.objects.filter(plan=plan).select_related("kpi")
    }
    assert saved == {
        "health_declaration_offices": ("健康宣言事業所数", "2,200事業所以上", "fixed_min", Decimal("2200")),
        "insured_guidance_rate": ("メールマガジン登録者数", "20.0％以上", "fixed_min", Decimal("20.0")),
    }
    assert list(Measure.objects.filter(plan=plan).order_by("order").values_list("area_id", "number", "title")) == [
        (1, "（１）", "サービス水準の向上"),
        (2, "（１）", "健康づくりの推進"),
        (3, "（１）", "人材育成"),
    ]
    assert plan_import.SESSION_KEY.format(code="tochigi", year=YEAR) not in staff_client.session
    assert any("保存しました" in message for message in messages_of(response))
    reason = plan_import.IMPORT_REASON.format(source=forms_import.PASTED_SOURCE)
    assert plan.history.get().history_change_reason == reason
    assert {row.history_change_reason for row in KpiTarget.history.filter(plan_id=plan.pk)} == {reason}
    assert KpiTarget.history.filter(plan_id=plan.pk).first().history_user.username == "tochigi-staff"


@pytest.mark.django_db
def test_an_unreadable_phrase_is_shown_with_its_reason_and_refused_on_confirm(staff_client: Client) -> None:
    paste(staff_client)
    review, token = stored_review(staff_client)
    changes = {"line-0-target_text": "2,000事業所以上とする 1,600事業所以上", "line-2-drop": "on"}
    before = counts()

    staff_client.post(review_url(), review_form(review, token, action="update", **changes))
    page = staff_client.get(review_url()).content.decode()
    response = staff_client.post(review_url(), review_form(review, token, action="confirm", **changes))

    assert "複数の目標" in page
    assert (
        response.status_code == 400
        and "1行目「健康宣言事業所数」: 目標「2,000事業所以上とする" in response.content.decode()
    )
    assert counts() == before


@pytest.mark.django_db
def test_the_same_kpi_on_two_lines_is_refused(staff_client: Client) -> None:
    paste(staff_client)
    review, token = stored_review(staff_client)

    response = staff_client.post(
        review_url(), review_form(review, token, action="confirm", **{"line-2-kpi": "health_declaration_offices"})
    )

    assert response.status_code == 400
    assert (
        review_module.ERROR_DUPLICATE_KPI.format(
            row=3, name="メールマガジン登録者数", kpi="health_declaration_offices", first=1
        )
        in response.content.decode()
    )


@pytest.mark.django_db
def test_a_stale_draft_is_refused(staff_client: Client) -> None:
    paste(staff_client)
    review, token = stored_review(staff_client)
    form = review_form(review, token, action="confirm", **{"line-2-drop": "on"})
    paste(staff_client)  # read again in another tab: a new token
    before = counts()

    response = staff_client.post(review_url(), form)

    assert response.status_code == 302 and response["Location"] == upload_url()
    assert plan_import.ERROR_STALE in messages_of(response)
    assert counts() == before


@pytest.mark.django_db
def test_an_expired_draft_is_refused(staff_client: Client) -> None:
    paste(staff_client)
    review, token = stored_review(staff_client)
    session = staff_client.session
    key = plan_import.SESSION_KEY.format(code="tochigi", year=YEAR)
    session[key] = {**session[key], "created": session[key]["created"] - plan_import.DRAFT_MAX_AGE - 1}
    session.save()
    before = counts()

    response = staff_client.post(review_url(), review_form(review, token, action="confirm", **{"line-2-drop": "on"}))

    assert response.status_code == 302 and plan_import.ERROR_STALE in messages_of(response)
    assert counts() == before
    assert staff_client.get(review_url())["Location"] == upload_url()


@pytest.mark.django_db
def test_a_plan_saved_meanwhile_is_not_overwritten(staff_client: Client, tochigi: Branch) -> None:
    paste(staff_client)
    review, token = stored_review(staff_client)
    existing = PlanFactory(branch=tochigi, fiscal_year=FiscalYearFactory(year=YEAR))
    before = counts()

    response = staff_client.post(review_url(), review_form(review, token, action="confirm", **{"line-2-drop": "on"}))

    assert response.status_code == 409
    assert ERROR_PLAN_EXISTS.format(branch=tochigi.name, year="令和8年度") in response.content.decode()
    assert counts() == before and not existing.targets.exists()


@pytest.mark.django_db
def test_an_existing_plan_is_refused_at_upload(staff_client: Client, tochigi: Branch) -> None:
    before = counts()

    response = paste(staff_client, year=2023)  # the seed holds Tochigi's 2023 plan

    assert response.status_code == 200
    assert ERROR_PLAN_EXISTS.format(branch=tochigi.name, year="令和5年度") in response.content.decode()
    assert plan_import.SESSION_KEY.format(code="tochigi", year=2023) not in staff_client.session
    assert counts() == before


@pytest.mark.django_db
def test_the_review_without_a_draft_goes_back_to_the_upload(staff_client: Client) -> None:
    response = staff_client.get(review_url())

    assert response.status_code == 302 and response["Location"] == upload_url()
    assert plan_import.ERROR_NO_DRAFT in messages_of(response)


# --------------------------------------------------------------------------------------------------
# Bad uploads
# --------------------------------------------------------------------------------------------------


def upload(client: Client, name: str, data: bytes) -> Any:
    return client.post(upload_url(), {"document": SimpleUploadedFile(name, data)})


def refused_with(response: Any, message: str, client: Client) -> None:
    assert response.status_code == 400
    assert message in response.content.decode()
    assert plan_import.SESSION_KEY.format(code="tochigi", year=YEAR) not in client.session


@pytest.mark.django_db
def test_a_file_that_is_not_a_pdf_is_refused(staff_client: Client) -> None:
    response = upload(staff_client, "plan.pdf", "令和8年度 事業計画".encode())

    refused_with(response, pdf_module.ERROR_NOT_PDF.format(path="plan.pdf"), staff_client)


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(staff_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forms_import, "MAX_UPLOAD_BYTES", 1024 * 1024)

    response = upload(staff_client, "big.pdf", pdf_module.PDF_MAGIC + b"0" * (1024 * 1024 + 1))

    refused_with(response, forms_import.ERROR_TOO_LARGE.format(name="big.pdf", size="1.0", limit=1), staff_client)


@pytest.mark.django_db
def test_an_encrypted_pdf_is_refused(staff_client: Client, tmp_path: Path) -> None:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    path = tmp_path / "locked.pdf"
    page = canvas.Canvas(str(path), encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    page.drawString(40, 700, "KPI")
    page.save()

    response = upload(staff_client, "locked.pdf", path.read_bytes())

    refused_with(response, pdf_module.ERROR_ENCRYPTED.format(path="locked.pdf"), staff_client)


@pytest.mark.django_db
def test_a_pdf_without_a_text_layer_is_refused(staff_client: Client, tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(path))
    page.rect(40, 40, 300, 300, fill=1)  # a scanned page: a picture, no characters
    page.save()

    response = upload(staff_client, "scan.pdf", path.read_bytes())

    refused_with(response, pdf_module.ERROR_NO_TEXT.format(path="scan.pdf"), staff_client)


@pytest.mark.django_db
def test_a_broken_pdf_is_refused(staff_client: Client) -> None:
    response = upload(staff_client, "broken.pdf", b"%PDF-1.4\nnot a pdf at all")

    assert response.status_code == 400 and "broken.pdf" in response.content.decode()


@pytest.mark.django_db
def test_nothing_or_both_given_is_refused(staff_client: Client) -> None:
    refused_with(staff_client.post(upload_url(), {"text": "  "}), forms_import.ERROR_NOTHING_GIVEN, staff_client)
    both = staff_client.post(upload_url(), {"text": PLAN_TEXT, "document": SimpleUploadedFile("a.pdf", b"%PDF-1.4")})
    refused_with(both, forms_import.ERROR_BOTH_GIVEN, staff_client)


@pytest.mark.django_db
def test_the_upload_page_has_no_inline_script(staff_client: Client) -> None:
    paste(staff_client)

    for page in (staff_client.get(upload_url()), staff_client.get(review_url())):
        html = page.content.decode()
        assert "<script>" not in html and " onclick=" not in html and " onchange=" not in html


@pytest.mark.django_db
def test_the_source_link_points_at_the_line_holding_the_name_and_its_target(staff_client: Client) -> None:
    filler = "\n".join(f"本文 {n}" for n in range(1200))
    text = "健康宣言事業所数の推移\n" + filler + "\n【KPI】健康宣言事業所数を2,100事業所以上とする\n"  # line 1202

    paste(staff_client, text)
    page = staff_client.get(review_url()).content.decode()

    assert 'href="#src-1202"' in page and 'id="src-1202"' in page  # never "1,202": the anchor must resolve
    assert "原文 1202行" in page


# --------------------------------------------------------------------------------------------------
# Where the import is linked from
# --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_newest_plan_links_to_importing_next_years_for_those_who_manage_it(
    staff_client: Client, hq_manager: AbstractBaseUser
) -> None:
    link = f'href="{upload_url("tochigi", 2025)}"'

    assert link in staff_client.get(reverse("plan_page", args=["tochigi", 2024])).content.decode()
    assert "/plan/import/" not in staff_client.get(reverse("plan_page", args=["tochigi", 2023])).content.decode()
    assert link not in client_for(hq_manager).get(reverse("plan_page", args=["tochigi", 2024])).content.decode()


@pytest.mark.django_db
def test_a_branch_without_plans_links_to_importing_this_years(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime

    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2027, 3, 31))
    okinawa = BranchFactory(code="okinawa")
    client = client_for(member("okinawa-staff", branch=okinawa, staff=True))

    page = client.get(reverse("home")).content.decode()

    assert f'href="{upload_url("okinawa", 2026)}"' in page


def test_a_name_broken_over_lines_with_a_blank_line_between_is_found_in_the_source() -> None:
    text = "前文\n【KPI】柔道整復施術療養費の申請に占める、施術の\n\n申請の割合について対前年度以下とする\n"
    review = Review(branch="tochigi", fiscal_year=YEAR, source="", text=text)
    line = review_module.ReviewLine(kpi=None, name="柔道整復施術療養費の申請に占める、施術の申請の割合", target_text="")

    assert review.source_line_of(line, review_module.fold_lines(review.source_lines())) == 2


@pytest.mark.django_db
def test_a_kpi_code_outside_the_catalog_and_an_empty_measure_title_are_refused(staff_client: Client) -> None:
    paste(staff_client)
    review, token = stored_review(staff_client)
    changes = {"line-2-kpi": "no_such_kpi", "measure-0-title": "", "action": "confirm"}
    before = counts()

    response = staff_client.post(review_url(), review_form(review, token, **changes))

    page = response.content.decode()
    assert response.status_code == 400
    assert review_module.ERROR_UNKNOWN_KPI.format(row=3, name="メールマガジン登録者数", code="no_such_kpi") in page
    assert review_module.ERROR_MEASURE_TITLE.format(row=1) in page
    assert counts() == before


@pytest.mark.django_db
def test_a_draft_the_page_cannot_read_back_is_stale_not_an_error(staff_client: Client) -> None:
    paste(staff_client)
    review, token = stored_review(staff_client)
    session = staff_client.session
    key = plan_import.SESSION_KEY.format(code="tochigi", year=YEAR)
    session[key] = {**session[key], "review": {"lines": "not a list"}}
    session.save()

    response = staff_client.post(review_url(), review_form(review, token, action="confirm"))

    assert response.status_code == 302 and plan_import.ERROR_STALE in messages_of(response)


@pytest.mark.django_db
def test_a_pdf_with_more_pages_than_a_plan_has_is_refused_before_it_is_read(
    staff_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reportlab.pdfgen import canvas

    monkeypatch.setattr(forms_import, "MAX_PDF_PAGES", 2)
    read: list[str] = []
    monkeypatch.setattr(forms_import, "extract_uploaded_pdf", lambda data, name: read.append(name) or "KPI")
    path = tmp_path / "many.pdf"
    pages = canvas.Canvas(str(path))
    for _ in range(3):
        pages.drawString(40, 700, "KPI")
        pages.showPage()
    pages.save()

    response = upload(staff_client, "many.pdf", path.read_bytes())

    refused_with(response, forms_import.ERROR_TOO_MANY_PAGES.format(name="many.pdf", limit=2), staff_client)
    assert read == []


@pytest.mark.django_db
def test_a_pdf_whose_text_is_longer_than_pasted_text_may_be_is_refused(
    staff_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_pdf_import import PLAN_LINES, draw_pdf

    monkeypatch.setattr(forms_import, "MAX_TEXT_CHARS", 50)
    path = tmp_path / "long.pdf"
    draw_pdf(path, PLAN_LINES)

    response = upload(staff_client, "long.pdf", path.read_bytes())

    refused_with(response, forms_import.ERROR_PDF_TEXT_TOO_LONG.format(name="long.pdf", limit="50"), staff_client)
