"""Excel workbooks in the browser: downloads from the dashboards and the entry screen, the upload page."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from plans import figures
from plans.models import KpiActual, Plan
from plans.selectors import plan_results
from plans.workbooks import layout, reader
from plans.workbooks.importer import WRONG_PLAN
from plans.workbooks.published import workbook_bytes
from plans.workbooks.template import template_workbook
from tests.conftest import client_for
from tests.test_workbooks import edited

pytestmark = pytest.mark.django_db

BASE = "/branches/tochigi/2023/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template(branch: str = "tochigi", year: int = 2023) -> bytes:
    plan = Plan.objects.select_related("branch", "fiscal_year").get(branch__code=branch, fiscal_year_id=year)
    return workbook_bytes(template_workbook(plan, plan_results(plan)))


def upload(data: bytes, name: str = "book.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def test_the_branch_dashboard_links_the_published_workbook_which_downloads(tochigi_staff: AbstractBaseUser) -> None:
    client = client_for(tochigi_staff)
    assert f'href="{BASE}workbook.xlsx"' in client.get(BASE).content.decode()
    response = client.get(BASE + "workbook.xlsx")
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert "kpitrack_tochigi_2023_published.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:3] == ["実施状況", "月次実績", "施策の進捗"]


def test_another_branch_may_not_download_the_workbook(gifu_staff: AbstractBaseUser) -> None:
    assert client_for(gifu_staff).get(BASE + "workbook.xlsx").status_code == 403
    assert client_for(gifu_staff).get(BASE + "workbook/template.xlsx").status_code == 403


def test_downloads_need_a_sign_in_and_refuse_post(tochigi_staff: AbstractBaseUser) -> None:
    assert client_for(None).get(BASE + "workbook.xlsx").status_code == 302
    assert client_for(tochigi_staff).post(BASE + "workbook.xlsx").status_code == 405


def test_the_entry_screen_links_the_template_which_downloads(tochigi_staff: AbstractBaseUser) -> None:
    client = client_for(tochigi_staff)
    page = client.get(BASE + "entry/2023-04/").content.decode()
    assert f'href="{BASE}workbook/template.xlsx"' in page and f'href="{BASE}workbook/import/"' in page
    response = client.get(BASE + "workbook/template.xlsx")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).sheetnames == [layout.FIGURES_SHEET, layout.META_SHEET]


def test_headquarters_downloads_the_national_workbook_from_the_matrix(hq_manager: AbstractBaseUser) -> None:
    client = client_for(hq_manager)
    assert 'href="/national/2024/workbook.xlsx"' in client.get("/national/2024/").content.decode()
    response = client.get("/national/2024/workbook.xlsx")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.content)).sheetnames[0] == "概要"


def test_a_branch_may_not_download_the_national_workbook(tochigi_staff: AbstractBaseUser) -> None:
    assert client_for(tochigi_staff).get("/national/2024/workbook.xlsx").status_code == 403


def test_the_upload_imports_a_filled_in_template(tochigi_staff: AbstractBaseUser) -> None:
    data = edited(template(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5}})
    response = client_for(tochigi_staff).post(BASE + "workbook/import/", {"workbook": upload(data), "import": "1"})
    assert response.status_code == 200
    assert "「book.xlsx」を取り込みました（新規 1件・更新 0件・変更なし 19件）。" in response.content.decode()
    actual = KpiActual.objects.get(target__plan__branch__code="tochigi", period="monthly", month="2023-04-01")
    assert actual.source == KpiActual.Source.IMPORT and actual.entered_by == tochigi_staff


def test_check_only_writes_nothing(tochigi_staff: AbstractBaseUser) -> None:
    data = edited(template(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5}})
    count = KpiActual.objects.count()
    response = client_for(tochigi_staff).post(BASE + "workbook/import/", {"workbook": upload(data), "preview": "1"})
    assert "確認のみ: 取り込むと 新規 1件・更新 0件・変更なし 19件 です。" in response.content.decode()
    assert KpiActual.objects.count() == count


def test_the_upload_lists_problems_by_sheet_row_and_column_and_writes_nothing(tochigi_staff: AbstractBaseUser) -> None:
    data = edited(template(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5, 2: "九十"}})
    count = KpiActual.objects.count()
    response = client_for(tochigi_staff).post(BASE + "workbook/import/", {"workbook": upload(data), "import": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "シート「月次実績」" in page and "行目・H列</td>" in page
    assert figures.NOT_A_NUMBER.format(text="九十") in page
    assert KpiActual.objects.count() == count


def test_the_upload_refuses_a_file_that_is_not_xlsx(tochigi_staff: AbstractBaseUser) -> None:
    response = client_for(tochigi_staff).post(BASE + "workbook/import/", {"workbook": upload(b"a,b\r\n", "a.csv")})
    assert response.status_code == 400 and reader.NOT_XLSX in response.content.decode()


def test_the_upload_refuses_a_file_over_the_limit(tochigi_staff: AbstractBaseUser, settings: object) -> None:
    settings.WORKBOOK_IMPORT_MAX_BYTES = 100  # type: ignore[attr-defined]
    response = client_for(tochigi_staff).post(BASE + "workbook/import/", {"workbook": upload(template())})
    assert response.status_code == 400 and reader.TOO_LARGE.format(limit="100バイト") in response.content.decode()


def test_the_upload_refuses_another_plans_workbook(tochigi_staff: AbstractBaseUser) -> None:
    data = template("tochigi", 2022)
    response = client_for(tochigi_staff).post(BASE + "workbook/import/", {"workbook": upload(data)})
    expected = WRONG_PLAN.format(book="tochigi 令和4年度", page="栃木支部 令和5年度")
    assert response.status_code == 400 and expected in response.content.decode()


def test_the_upload_without_a_file_says_so(tochigi_staff: AbstractBaseUser) -> None:
    response = client_for(tochigi_staff).post(BASE + "workbook/import/", {})
    assert (
        response.status_code == 400 and "取り込むExcelファイル（.xlsx）を選んでください。" in response.content.decode()
    )


def test_only_the_branch_enterers_and_superusers_may_upload(
    gifu_staff: AbstractBaseUser, hq_manager: AbstractBaseUser, tochigi_manager: AbstractBaseUser
) -> None:
    assert client_for(gifu_staff).get(BASE + "workbook/import/").status_code == 403
    assert client_for(gifu_staff).post(BASE + "workbook/import/", {"workbook": upload(template())}).status_code == 403
    assert client_for(hq_manager).post(BASE + "workbook/import/", {"workbook": upload(template())}).status_code == 403
    assert client_for(tochigi_manager).get(BASE + "workbook/import/").status_code == 200
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    data = edited(template(), {("mail_application_rate", layout.VALUE_ROW): {1: 93.5}})
    response = client_for(root).post(BASE + "workbook/import/", {"workbook": upload(data), "import": "1"})
    assert response.status_code == 200 and "新規 1件" in response.content.decode()


def test_the_upload_page_refuses_other_methods(tochigi_staff: AbstractBaseUser) -> None:
    assert client_for(tochigi_staff).put(BASE + "workbook/import/").status_code == 405
