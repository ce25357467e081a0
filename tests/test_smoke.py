import pytest

from plans.models import Plan

pytestmark = pytest.mark.django_db


def test_seed_is_loaded_for_every_test() -> None:
    assert Plan.objects.filter(branch__code="tochigi", fiscal_year_id=2023).exists()
