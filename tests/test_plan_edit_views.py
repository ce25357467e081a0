"""The plan edit page: who may edit (403/405), the live parse endpoint, saving phrases, next year's plan, lineage."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse

from branches.models import Branch
from plans import planning
from plans.models import FiscalYear, KpiChange, KpiTarget, Plan
from plans.views import plan_edit
from tests.conftest import client_for
from tests.factories import KpiActualFactory, KpiFactory, KpiTargetFactory, MeasureFactory, PlanFactory, UserFactory

pytestmark = pytest.mark.django_db

YEAR = 2031


@pytest.fixture
def plan(tochigi: Branch) -> Plan:
    return PlanFactory(branch=tochigi, fiscal_year=FiscalYear.objects.get_or_create(year=YEAR)[0])


@pytest.fixture
def target(plan: Plan) -> KpiTarget:
    return KpiTargetFactory(plan=plan, target_text="50%以上")


def url(name: str, plan: Plan, **kwargs: object) -> str:
    return reverse(name, kwargs={"code": plan.branch.code, "year": plan.fiscal_year_id, **kwargs})


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]] if response.context else []


# -- who may edit ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["tochigi_staff", "tochigi_manager"])
def test_the_branchs_staff_and_manager_see_the_edit_page(
    request: pytest.FixtureRequest, persona: str, plan: Plan, target: KpiTarget
) -> None:
    response = client_for(request.getfixturevalue(persona)).get(url("plan_edit", plan))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="50%以上"' in body
    assert "固定値以上・目標値 50%" in body
    assert "js/plan_edit.js" in body
    assert "onclick" not in body and "<script>" not in body


def test_a_superuser_sees_the_edit_page(plan: Plan, target: KpiTarget) -> None:
    admin = UserFactory(username="edit-admin", is_superuser=True, is_staff=True)
    assert client_for(admin).get(url("plan_edit", plan)).status_code == 200


@pytest.mark.parametrize("persona", ["gifu_staff", "hq_manager", "outsider"])
def test_others_get_403(request: pytest.FixtureRequest, persona: str, plan: Plan) -> None:
    response = client_for(request.getfixturevalue(persona)).get(url("plan_edit", plan))
    assert response.status_code == 403


def test_hq_reading_gets_403_with_the_manage_plan_message(hq_manager: AbstractBaseUser, plan: Plan) -> None:
    response = client_for(hq_manager).get(url("plan_edit", plan))
    assert "この支部の事業計画を編集する権限がありません" in response.content.decode()


@pytest.mark.parametrize("persona", ["gifu_staff", "hq_manager"])
@pytest.mark.parametrize("name", ["plan_next_year", "plan_target_add", "plan_change_record"])
def test_others_cannot_post_actions(request: pytest.FixtureRequest, persona: str, name: str, plan: Plan) -> None:
    response = client_for(request.getfixturevalue(persona)).post(url(name, plan), {"kpi": "x"})

    assert response.status_code == 403
    assert not Plan.objects.filter(branch=plan.branch, fiscal_year_id=YEAR + 1).exists()


def test_anonymous_users_are_sent_to_log_in(plan: Plan) -> None:
    response = client_for(None).get(url("plan_edit", plan))
    assert response.status_code == 302


@pytest.mark.parametrize("name", ["plan_next_year", "plan_target_add", "plan_change_record"])
def test_post_only_actions_answer_405_to_get(tochigi_staff: AbstractBaseUser, name: str, plan: Plan) -> None:
    assert client_for(tochigi_staff).get(url(name, plan)).status_code == 405


def test_remove_answers_405_to_get(tochigi_staff: AbstractBaseUser, target: KpiTarget) -> None:
    response = client_for(tochigi_staff).get(url("plan_target_remove", target.plan, pk=target.pk))
    assert response.status_code == 405


def test_an_unknown_branch_or_plan_is_404(tochigi_staff: AbstractBaseUser, plan: Plan) -> None:
    client = client_for(tochigi_staff)
    assert client.get(reverse("plan_edit", kwargs={"code": "atlantis", "year": YEAR})).status_code == 404
    assert client.get(reverse("plan_edit", kwargs={"code": "tochigi", "year": 2099})).status_code == 404


# -- saving phrases -------------------------------------------------------------------------------------------------


def test_saving_the_form_writes_the_changed_phrases(tochigi_staff: AbstractBaseUser, target: KpiTarget) -> None:
    other = KpiTargetFactory(plan=target.plan, target_text="実施")
    response = client_for(tochigi_staff).post(
        url("plan_edit", target.plan),
        {
            f"t{target.pk}-text": "60%以上",
            f"t{target.pk}-seen": "50%以上",
            f"t{other.pk}-text": "実施",
            f"t{other.pk}-seen": "実施",
            "reason": "支部長決裁",
        },
        follow=True,
    )

    assert messages_of(response) == [plan_edit.SAVED.format(count=1)]
    target.refresh_from_db()
    assert (target.target_text, target.rule) == ("60%以上", "fixed_min")
    assert target.history.latest().history_change_reason == "目標を変更（画面入力）: 支部長決裁"
    assert other.history.count() == 1


def test_an_unreadable_phrase_saves_nothing_and_keeps_what_was_typed(
    tochigi_staff: AbstractBaseUser, target: KpiTarget
) -> None:
    other = KpiTargetFactory(plan=target.plan, target_text="")
    response = client_for(tochigi_staff).post(
        url("plan_edit", target.plan),
        {
            f"t{target.pk}-text": "60%以上",
            f"t{target.pk}-seen": "50%以上",
            f"t{other.pk}-text": "たくさん",
            f"t{other.pk}-seen": "",
        },
    )

    assert response.status_code == 200
    assert messages_of(response) == [plan_edit.NOT_SAVED]
    body = response.content.decode()
    assert 'value="たくさん"' in body and 'value="60%以上"' in body
    assert "目標「たくさん」を読み取れません" in body
    target.refresh_from_db()
    assert target.target_text == "50%以上"  # all or nothing


def test_a_phrase_changed_meanwhile_is_refused_with_both_phrases(
    tochigi_staff: AbstractBaseUser, tochigi_manager: AbstractBaseUser, target: KpiTarget
) -> None:
    planning.target_update(target, "55%以上", user=tochigi_manager, expected_text="50%以上")

    response = client_for(tochigi_staff).post(
        url("plan_edit", target.plan), {f"t{target.pk}-text": "60%以上", f"t{target.pk}-seen": "50%以上"}
    )

    body = response.content.decode()
    assert planning.TARGET_CONFLICT.format(kpi=target.kpi.name, stored="55%以上", typed="60%以上") in body
    assert f'name="t{target.pk}-seen" value="55%以上"' in body  # saving again is a knowing choice
    target.refresh_from_db()
    assert target.target_text == "55%以上"


def test_saving_one_row_keeps_the_other_rows_typing(tochigi_staff: AbstractBaseUser, target: KpiTarget) -> None:
    other = KpiTargetFactory(plan=target.plan, target_text="")
    response = client_for(tochigi_staff).post(
        url("plan_edit", target.plan),
        {
            "only": f"t{target.pk}",
            f"t{target.pk}-text": "60%以上",
            f"t{target.pk}-seen": "50%以上",
            f"t{other.pk}-text": "実施",
            f"t{other.pk}-seen": "",
        },
    )

    assert response.status_code == 200
    assert messages_of(response) == [plan_edit.SAVED.format(count=1), plan_edit.OTHER_ROWS_KEPT]
    assert 'value="実施"' in response.content.decode()
    other.refresh_from_db()
    assert other.target_text == ""
    target.refresh_from_db()
    assert target.target_text == "60%以上"


# -- next year, adding, removing, lineage -----------------------------------------------------------------------


def test_the_plan_page_offers_editing_and_next_year_to_the_branch_only(
    tochigi_staff: AbstractBaseUser, hq_manager: AbstractBaseUser, target: KpiTarget
) -> None:
    staff_page = client_for(tochigi_staff).get(url("plan_page", target.plan)).content.decode()
    hq_page = client_for(hq_manager).get(url("plan_page", target.plan)).content.decode()

    assert "次年度の計画を作成" in staff_page and url("plan_edit", target.plan) in staff_page
    assert "次年度の計画を作成" not in hq_page and url("plan_edit", target.plan) not in hq_page


def test_next_year_is_created_and_opened_for_editing(tochigi_staff: AbstractBaseUser, target: KpiTarget) -> None:
    deleted = KpiTargetFactory(plan=target.plan)
    FiscalYear.objects.get_or_create(year=YEAR + 1)
    KpiChange.objects.create(kpi=deleted.kpi, fiscal_year_id=YEAR + 1, change="deleted")

    response = client_for(tochigi_staff).post(url("plan_next_year", target.plan), follow=True)

    new = Plan.objects.get(branch=target.plan.branch, fiscal_year_id=YEAR + 1)
    assert response.redirect_chain[-1][0] == url("plan_edit", new)
    assert [t.kpi for t in new.targets.all()] == [target.kpi]
    shown = messages_of(response)
    assert shown[0] == plan_edit.NEXT_PLAN_CREATED.format(year="令和14年度", measures=2, kpis=1)
    assert shown[1] == plan_edit.NEXT_PLAN_DROPPED.format(year="令和14年度", names=deleted.kpi.name)


def test_next_year_twice_is_refused_with_a_message(tochigi_staff: AbstractBaseUser, target: KpiTarget) -> None:
    client = client_for(tochigi_staff)
    client.post(url("plan_next_year", target.plan), follow=True)

    response = client.post(url("plan_next_year", target.plan), follow=True)

    assert messages_of(response) == [planning.NEXT_PLAN_EXISTS.format(branch=target.plan.branch, year="令和14年度")]
    assert Plan.objects.filter(branch=target.plan.branch, fiscal_year_id=YEAR + 1).count() == 1


def test_a_kpi_is_added_under_a_measure(tochigi_staff: AbstractBaseUser, plan: Plan) -> None:
    kpi = KpiFactory(is_national=False)
    measure = MeasureFactory(plan=plan)

    response = client_for(tochigi_staff).post(
        url("plan_target_add", plan),
        {"kpi": kpi.code, "measure": measure.pk, "text": "実施", "record_new": "1"},
        follow=True,
    )

    assert messages_of(response) == [plan_edit.TARGET_ADDED.format(kpi=kpi.name)]
    assert plan.targets.get(kpi=kpi).measure == measure
    assert KpiChange.objects.filter(kpi=kpi, fiscal_year_id=YEAR, change="new").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kpi": "no-such-kpi"}, plan_edit.NO_SUCH_KPI),
        ({"kpi": "", "text": "実施"}, plan_edit.NO_SUCH_KPI),
        ({"kpi": "KPI", "measure": "999999"}, plan_edit.NO_SUCH_MEASURE),
        ({"kpi": "KPI", "measure": "abc"}, plan_edit.NO_SUCH_MEASURE),
    ],
)
def test_adding_refuses_unknown_choices(
    tochigi_staff: AbstractBaseUser, plan: Plan, data: dict[str, str], message: str
) -> None:
    kpi = KpiFactory()
    data = {key: kpi.code if value == "KPI" else value for key, value in data.items()}

    response = client_for(tochigi_staff).post(url("plan_target_add", plan), data, follow=True)

    assert messages_of(response) == [message]
    assert not plan.targets.exists()


def test_adding_with_an_unreadable_phrase_is_refused(tochigi_staff: AbstractBaseUser, plan: Plan) -> None:
    kpi = KpiFactory()
    response = client_for(tochigi_staff).post(url("plan_target_add", plan), {"kpi": kpi.code, "text": "?"}, follow=True)

    assert messages_of(response)[0].startswith("目標「?」を読み取れません")
    assert not plan.targets.exists()


def test_a_target_is_removed_unless_it_has_actuals(tochigi_staff: AbstractBaseUser, target: KpiTarget) -> None:
    kept = KpiTargetFactory(plan=target.plan)
    KpiActualFactory(target=kept)
    client = client_for(tochigi_staff)

    removed = client.post(url("plan_target_remove", target.plan, pk=target.pk), follow=True)
    refused = client.post(url("plan_target_remove", target.plan, pk=kept.pk), follow=True)

    assert messages_of(removed) == [plan_edit.TARGET_REMOVED.format(kpi=target.kpi.name)]
    assert messages_of(refused) == [planning.TARGET_HAS_ACTUALS.format(kpi=kept.kpi.name, count=1)]
    assert list(target.plan.targets.all()) == [kept]


def test_removing_another_plans_target_is_404(tochigi_staff: AbstractBaseUser, plan: Plan) -> None:
    elsewhere = KpiTargetFactory()
    response = client_for(tochigi_staff).post(url("plan_target_remove", plan, pk=elsewhere.pk))

    assert response.status_code == 404
    assert KpiTarget.objects.filter(pk=elsewhere.pk).exists()


def test_a_definition_change_is_recorded_for_a_branch_kpi(tochigi_staff: AbstractBaseUser, plan: Plan) -> None:
    kpi = KpiFactory(is_national=False)

    response = client_for(tochigi_staff).post(
        url("plan_change_record", plan),
        {"kpi": kpi.code, "change": "definition_changed", "note": "※算出方法変更", "previous_name": "旧名称"},
        follow=True,
    )

    assert messages_of(response) == [
        plan_edit.CHANGE_RECORDED.format(kpi=kpi.name, year="令和13年度", change="基準・算出方法の変更")
    ]
    recorded = KpiChange.objects.get(kpi=kpi, fiscal_year_id=YEAR)
    assert (recorded.change, recorded.previous_name, recorded.note) == ("definition_changed", "旧名称", "※算出方法変更")


def test_branch_staff_cannot_record_a_national_kpis_change(tochigi_staff: AbstractBaseUser, plan: Plan) -> None:
    kpi = KpiFactory(is_national=True)

    response = client_for(tochigi_staff).post(
        url("plan_change_record", plan), {"kpi": kpi.code, "change": "new"}, follow=True
    )

    assert messages_of(response) == [planning.LINEAGE_NATIONAL_ONLY_HQ.format(kpi=kpi.name)]
    assert not KpiChange.objects.filter(kpi=kpi).exists()


def test_an_unknown_change_kind_is_refused(tochigi_staff: AbstractBaseUser, plan: Plan) -> None:
    kpi = KpiFactory(is_national=False)
    response = client_for(tochigi_staff).post(
        url("plan_change_record", plan), {"kpi": kpi.code, "change": "renamed"}, follow=True
    )

    assert messages_of(response) == [plan_edit.NO_SUCH_CHANGE]
    assert not KpiChange.objects.filter(kpi=kpi).exists()


# -- the admin door -------------------------------------------------------------------------------------------------


def _admin_data(target: KpiTarget, text: str) -> dict[str, object]:
    return {
        "plan": target.plan_id,
        "kpi": target.kpi_id,
        "measure": target.measure_id or "",
        "name_as_written": target.name_as_written,
        "target_text": text,
        "precision_override": "",
        "note": "",
        "published_mark": "",
        "order": target.order,
        "actuals-TOTAL_FORMS": "0",
        "actuals-INITIAL_FORMS": "0",
    }


def test_the_admin_saves_a_phrase_through_the_planning_path(target: KpiTarget) -> None:
    admin = UserFactory(username="target-admin", is_superuser=True, is_staff=True)
    change = reverse("admin:plans_kpitarget_change", args=[target.pk])

    response = client_for(admin).post(change, {**_admin_data(target, "55%以上"), "loaded_text": "50%以上"})

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.target_text, target.rule) == ("55%以上", "fixed_min")
    latest = target.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (admin, "目標を変更（画面入力）: 管理サイトで変更")


def test_the_admin_refuses_a_phrase_changed_meanwhile(target: KpiTarget, tochigi_staff: AbstractBaseUser) -> None:
    admin = UserFactory(username="target-admin", is_superuser=True, is_staff=True)
    change = reverse("admin:plans_kpitarget_change", args=[target.pk])
    client = client_for(admin)
    loaded = client.get(change).context["adminform"].form["loaded_text"].value()
    planning.target_update(target, "52%以上", user=tochigi_staff, expected_text="50%以上")

    response = client.post(change, {**_admin_data(target, "58%以上"), "loaded_text": loaded})

    assert response.status_code == 200
    expected = planning.TARGET_CONFLICT.format(kpi=target.kpi.name, stored="52%以上", typed="58%以上")
    assert expected in response.content.decode()
    target.refresh_from_db()
    assert target.target_text == "52%以上"


def test_a_phrase_typed_for_a_target_removed_meanwhile_is_reported(
    tochigi_staff: AbstractBaseUser, target: KpiTarget
) -> None:
    removed = KpiTargetFactory(plan=target.plan, target_text="")
    prefix = f"t{removed.pk}"
    planning.target_remove(removed, user=tochigi_staff)

    response = client_for(tochigi_staff).post(
        url("plan_edit", target.plan),
        {
            f"{prefix}-text": "実施",
            f"{prefix}-seen": "",
            f"t{target.pk}-text": "70%以上",
            f"t{target.pk}-seen": "50%以上",
        },
    )

    assert messages_of(response) == [plan_edit.NOT_SAVED, planning.TARGET_GONE.format(typed="実施")]
    target.refresh_from_db()
    assert target.target_text == "50%以上"
