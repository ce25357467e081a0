"""The admin: scoped to the user's branch, catalog kept by headquarters, actuals written through actual_record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.models import Permission as ModelPermission
from django.db.models import Model
from django.test import Client

from branches.models import Branch, Membership
from plans import admin as plans_admin
from plans.models import (
    BudgetLine,
    Kpi,
    KpiActual,
    KpiTarget,
    Measure,
    MeasureProgress,
    Plan,
)
from plans.services import ActualConflict, actual_record

pytestmark = pytest.mark.django_db

SCOPED: dict[str, tuple[type[Model], str]] = {
    "plan": (Plan, "branch"),
    "measure": (Measure, "plan__branch"),
    "kpitarget": (KpiTarget, "plan__branch"),
    "kpiactual": (KpiActual, "target__plan__branch"),
    "measureprogress": (MeasureProgress, "measure__plan__branch"),
    "budgetline": (BudgetLine, "plan__branch"),
}


def _admin_user(username: str, branch_code: str | None, role: str) -> AbstractBaseUser:
    """A user given admin rights: is_staff plus every permission on the plans and branches models."""
    user = get_user_model().objects.create_user(username=username, password="pw", is_staff=True)
    branch = Branch.objects.get(code=branch_code) if branch_code else None
    Membership.objects.create(user=user, branch=branch, role=role)
    user.user_permissions.set(ModelPermission.objects.filter(content_type__app_label__in=["plans", "branches"]))
    return get_user_model().objects.get(pk=user.pk)  # fresh: no cached permissions


@pytest.fixture(autouse=True)
def _gifu_budget_line() -> None:
    """The seed has budget lines for Tochigi only: give another branch one, so scoping has something to hide."""
    BudgetLine.objects.create(plan=_of(Plan, "branch", "gifu"), programme="岐阜の広報事業", budget_amount=1000)


@pytest.fixture
def tochigi_admin() -> Client:
    client = Client()
    client.force_login(_admin_user("tochigi-admin", "tochigi", Membership.Role.STAFF))
    return client


@pytest.fixture
def hq_admin() -> Client:
    client = Client()
    client.force_login(_admin_user("hq-admin", None, Membership.Role.HQ))
    return client


def _of(model: type[Model], path: str, code: str) -> Any:
    return model.objects.filter(**{f"{path}__code": code}).order_by("pk").first()


def _history(target_id: int) -> Any:
    return KpiActual.history.filter(target_id=target_id)  # type: ignore[attr-defined]


def _actual(code: str) -> KpiActual:
    return KpiActual.objects.filter(target__plan__branch__code=code, value__isnull=False).order_by("pk").first()


def _change_data(actual: KpiActual, **overrides: Any) -> dict[str, Any]:
    data = {
        "value": "" if actual.value is None else str(actual.value),
        "text_value": actual.text_value,
        "numerator": "" if actual.numerator is None else str(actual.numerator),
        "denominator": "" if actual.denominator is None else str(actual.denominator),
        "note": actual.note,
        "expected_version": str(actual.version),
        "reason": "支部資料の訂正",
    }
    if actual.is_cumulative:
        data["is_cumulative"] = "on"
    data.update(overrides)
    return data


def _url(name: str, action: str = "changelist", pk: int | None = None) -> str:
    return f"/admin/plans/{name}/" + ("" if action == "changelist" else f"{pk}/change/")


# -- Scope -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCOPED)
def test_it_lists_only_the_own_branch_rows_to_a_branch_admin(tochigi_admin: Client, name: str) -> None:
    model, path = SCOPED[name]
    response = tochigi_admin.get(_url(name))
    assert response.status_code == 200
    own = model.objects.filter(**{f"{path}__code": "tochigi"}).count()
    assert response.context["cl"].result_count == own
    assert response.context["cl"].full_result_count == own
    assert 0 < own < model.objects.count()


@pytest.mark.parametrize("name", SCOPED)
def test_it_lists_every_branch_to_a_headquarters_admin(hq_admin: Client, name: str) -> None:
    model, _ = SCOPED[name]
    response = hq_admin.get(_url(name))
    assert response.context["cl"].result_count == model.objects.count()


@pytest.mark.parametrize("name", SCOPED)
def test_it_refuses_another_branch_row_to_a_branch_admin(tochigi_admin: Client, name: str) -> None:
    model, path = SCOPED[name]
    other = _of(model, path, "gifu")
    response = tochigi_admin.get(_url(name, "change", other.pk))
    assert response.status_code == 403
    assert tochigi_admin.get(f"/admin/plans/{name}/{other.pk}/delete/").status_code == 403
    own = _of(model, path, "tochigi")
    assert tochigi_admin.get(_url(name, "change", own.pk)).status_code == 200


@pytest.mark.parametrize("name", SCOPED)
def test_it_refuses_another_branch_rows_history_to_a_branch_admin(tochigi_admin: Client, name: str) -> None:
    model, path = SCOPED[name]
    for code, status in (("gifu", 403), ("tochigi", 200)):
        row = _of(model, path, code)
        version = row.history.order_by("history_id").first()
        assert tochigi_admin.get(f"/admin/plans/{name}/{row.pk}/history/").status_code == status
        assert tochigi_admin.get(f"/admin/plans/{name}/{row.pk}/history/{version.history_id}/").status_code == status


def test_it_still_redirects_for_a_row_that_does_not_exist(tochigi_admin: Client) -> None:
    assert tochigi_admin.get(_url("kpitarget", "change", 999999)).status_code == 302


def test_it_offers_only_own_branch_plans_and_measures_in_foreign_key_choices(tochigi_admin: Client) -> None:
    form = tochigi_admin.get("/admin/plans/kpitarget/add/").context["adminform"].form
    assert {p.branch.code for p in form.fields["plan"].queryset} == {"tochigi"}
    assert {m.plan.branch.code for m in form.fields["measure"].queryset} == {"tochigi"}
    form = tochigi_admin.get("/admin/plans/plan/add/").context["adminform"].form
    assert [b.code for b in form.fields["branch"].queryset] == ["tochigi"]


def test_it_refuses_to_pick_another_branch_target_for_an_actual(tochigi_admin: Client) -> None:
    gifu_target = _of(KpiTarget, "plan__branch", "gifu")
    before = KpiActual.objects.count()
    response = tochigi_admin.post(
        "/admin/plans/kpiactual/add/",
        {"target": gifu_target.pk, "period": "year_end", "value": "50", "expected_version": "0", "reason": ""},
    )
    assert response.status_code == 200
    assert "target" in response.context["adminform"].form.errors
    assert KpiActual.objects.count() == before


def test_it_refuses_to_move_a_budget_line_onto_another_branch(tochigi_admin: Client) -> None:
    line = _of(BudgetLine, "plan__branch", "tochigi")
    gifu_plan = _of(Plan, "branch", "gifu")
    data = {
        "plan": gifu_plan.pk,
        "category": line.category,
        "programme": line.programme,
        "budget_amount": line.budget_amount or "",
        "spent_amount": line.spent_amount or "",
        "note": line.note,
        "order": line.order,
    }
    response = tochigi_admin.post(f"/admin/plans/budgetline/{line.pk}/change/", data)
    assert response.status_code == 200
    assert "plan" in response.context["adminform"].form.errors
    line.refresh_from_db()
    assert line.plan.branch.code == "tochigi"


def test_it_shows_headquarters_branch_rows_read_only(hq_admin: Client) -> None:
    actual = _actual("tochigi")
    response = hq_admin.get(_url("kpiactual", "change", actual.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    response = hq_admin.post(_url("kpiactual", "change", actual.pk), _change_data(actual, value="1"))
    assert response.status_code == 403
    actual.refresh_from_db()
    assert actual.value != Decimal("1")


# -- Catalog ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/admin/plans/kpi/", "/admin/plans/area/", "/admin/branches/branch/"])
def test_it_lets_a_branch_admin_only_view_the_catalog(tochigi_admin: Client, url: str) -> None:
    response = tochigi_admin.get(url)
    assert response.status_code == 200
    assert not response.context["has_add_permission"]
    assert tochigi_admin.get(url + "add/").status_code == 403


def test_it_refuses_a_branch_admin_changing_a_kpi(tochigi_admin: Client) -> None:
    kpi = Kpi.objects.order_by("pk").first()
    response = tochigi_admin.post(f"/admin/plans/kpi/{kpi.pk}/change/", {"name": "書き換え"})
    assert response.status_code == 403
    kpi.refresh_from_db()
    assert kpi.name != "書き換え"


def test_it_lets_headquarters_edit_the_catalog(hq_admin: Client) -> None:
    response = hq_admin.get("/admin/branches/membership/add/")
    assert response.status_code == 200


# -- Actuals: one write door -----------------------------------------------------------------------------------


def test_it_saves_an_admin_change_through_actual_record(tochigi_admin: Client) -> None:
    actual = _actual("tochigi")
    version = actual.version
    response = tochigi_admin.post(_url("kpiactual", "change", actual.pk), _change_data(actual, value="12.5"))
    assert response.status_code == 302
    actual.refresh_from_db()
    assert (actual.value, actual.version, actual.source) == (Decimal("12.5"), version + 1, "manual")
    assert actual.entered_by.username == "tochigi-admin"
    revision = _history(actual.target_id).filter(id=actual.pk).order_by("-history_id").first()
    assert (revision.history_type, revision.value, revision.version) == ("~", Decimal("12.5"), version + 1)
    assert revision.history_change_reason == "支部資料の訂正"
    assert revision.history_user.username == "tochigi-admin"


def test_it_requires_a_reason_for_a_change(tochigi_admin: Client) -> None:
    actual = _actual("tochigi")
    response = tochigi_admin.post(_url("kpiactual", "change", actual.pk), _change_data(actual, value="1", reason=""))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reason"] == [plans_admin.REASON_REQUIRED]
    assert KpiActual.objects.get(pk=actual.pk).value == actual.value


def test_it_shows_a_stale_admin_form_as_a_conflict_with_both_values(tochigi_admin: Client) -> None:
    actual = _actual("tochigi")
    stale = _change_data(actual, value="11")
    newer, _ = actual_record(
        target=actual.target, period=actual.period, month=actual.month, value=Decimal("99.5"), expected_version=None
    )
    response = tochigi_admin.post(_url("kpiactual", "change", actual.pk), stale)
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors == [
        f"この実績は他の利用者が先に更新しました（版 {newer.version}）。"
        "保存されている値は「99.5」、入力された値は「11」です。入力された値は保存していません。最新の値を確認してから入力し直してください。"
    ]
    stored = KpiActual.objects.get(pk=actual.pk)
    assert (stored.value, stored.version) == (Decimal("99.5"), newer.version)


def test_it_shows_a_save_that_loses_the_race_as_a_conflict_not_a_500(
    tochigi_admin: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    actual = _actual("tochigi")
    calls: list[int] = []

    def lose(**kwargs: Any) -> Any:
        calls.append(kwargs["expected_version"])
        raise ActualConflict(KpiActual(value=Decimal("77"), version=actual.version + 1), "11")

    monkeypatch.setattr(plans_admin, "actual_record", lose)
    response = tochigi_admin.post(_url("kpiactual", "change", actual.pk), _change_data(actual, value="11"))
    assert response.status_code == 200
    assert calls == [actual.version]  # tried once, then the form is shown again without another write
    [error] = response.context["adminform"].form.non_field_errors()
    assert "保存されている値は「77」、入力された値は「11」" in error
    assert KpiActual.objects.get(pk=actual.pk).value == actual.value


def test_it_shows_adding_an_existing_cell_as_a_conflict(tochigi_admin: Client) -> None:
    actual = _actual("tochigi")
    data = {
        "target": actual.target_id,
        "period": actual.period,
        "month": actual.month.isoformat() if actual.month else "",
        "value": "5",
        "expected_version": "0",
    }
    response = tochigi_admin.post("/admin/plans/kpiactual/add/", data)
    assert response.status_code == 200
    [error] = response.context["adminform"].form.non_field_errors()
    assert error.startswith(f"この実績は他の利用者が先に更新しました（版 {actual.version}）。")
    assert "入力された値は「5」" in error
    assert KpiActual.objects.get(pk=actual.pk).value == actual.value


def test_it_adds_an_actual_with_a_create_history_row(tochigi_admin: Client) -> None:
    target = KpiTarget.objects.filter(plan__branch__code="tochigi", actuals__isnull=True).order_by("pk").first()
    data = {"target": target.pk, "period": "year_end", "value": "64.2", "expected_version": "0", "is_cumulative": "on"}
    response = tochigi_admin.post("/admin/plans/kpiactual/add/", data)
    assert response.status_code == 302
    actual = KpiActual.objects.get(target=target)
    assert (actual.value, actual.version, actual.source) == (Decimal("64.2"), 1, "manual")
    assert _history(target.pk).get(id=actual.pk).history_type == "+"


def test_it_ignores_a_version_typed_by_hand(tochigi_admin: Client) -> None:
    actual = _actual("tochigi")
    response = tochigi_admin.post(_url("kpiactual", "change", actual.pk), _change_data(actual, value="3", version="90"))
    assert response.status_code == 302
    assert KpiActual.objects.get(pk=actual.pk).version == actual.version + 1
    assert "version" not in plans_admin.KpiActualAdminForm.base_fields


def test_it_deletes_an_actual_keeping_a_delete_history_row(tochigi_admin: Client) -> None:
    actual = _actual("tochigi")
    response = tochigi_admin.post(f"/admin/plans/kpiactual/{actual.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not KpiActual.objects.filter(pk=actual.pk).exists()
    revision = _history(actual.target_id).get(id=actual.pk, history_type="-")
    assert (revision.value, revision.version) == (actual.value, actual.version + 1)
    assert revision.history_user.username == "tochigi-admin"
    assert revision.history_change_reason == plans_admin.ADMIN_DELETE_REASON


def test_it_bulk_deletes_actuals_keeping_a_delete_history_row_each(tochigi_admin: Client) -> None:
    actuals = list(KpiActual.objects.filter(target__plan__branch__code="tochigi").order_by("pk")[:3])
    response = tochigi_admin.post(
        "/admin/plans/kpiactual/",
        {"action": "delete_selected", "_selected_action": [a.pk for a in actuals], "post": "yes"},
    )
    assert response.status_code == 302
    assert not KpiActual.objects.filter(pk__in=[a.pk for a in actuals]).exists()
    deleted = KpiActual.history.filter(history_type="-", id__in=[a.pk for a in actuals])  # type: ignore[attr-defined]
    assert sorted(r.id for r in deleted) == sorted(a.pk for a in actuals)
    assert {r.history_change_reason for r in deleted} == {plans_admin.ADMIN_DELETE_REASON}


def test_it_shows_a_target_actuals_read_only_with_a_link_to_each(tochigi_admin: Client) -> None:
    actual = _actual("tochigi")
    response = tochigi_admin.get(_url("kpitarget", "change", actual.target_id))
    content = response.content.decode()
    assert f"/admin/plans/kpiactual/{actual.pk}/change/" in content
    assert 'name="actuals-0-value"' not in content
    assert 'name="actuals-0-note"' not in content
    [inline] = [f for f in response.context["inline_admin_formsets"] if f.opts.model is KpiActual]
    assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)


def test_it_offers_only_own_branch_measures_in_the_plan_page_inlines(tochigi_admin: Client) -> None:
    plan = _of(Plan, "branch", "tochigi")
    response = tochigi_admin.get(_url("plan", "change", plan.pk))
    [targets] = [f for f in response.context["inline_admin_formsets"] if f.opts.model is KpiTarget]
    assert targets.has_change_permission
    measures = targets.formset.form.base_fields["measure"].queryset
    assert {m.plan.branch.code for m in measures} == {"tochigi"}


def test_it_shows_headquarters_a_plan_page_with_read_only_inlines(hq_admin: Client) -> None:
    plan = _of(Plan, "branch", "gifu")
    response = hq_admin.get(_url("plan", "change", plan.pk))
    assert response.status_code == 200
    for inline in response.context["inline_admin_formsets"]:
        assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)
