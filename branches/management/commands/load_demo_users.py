from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from branches.models import Branch, Membership

DEMO_PASSWORD = "kpitrack-demo"
ADMIN_PASSWORD = "kpitrack-admin"
DEMO_BRANCHES = ("tochigi", "kagoshima", "tokyo", "gifu")


class Command(BaseCommand):
    help = "デモ用の利用者（本部・4支部の担当者・管理者）を作成します。何度実行しても同じ結果になります。"

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        Branch.objects.sync_prefectures()
        admin, _ = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(ADMIN_PASSWORD)
        admin.save()
        hq, _ = User.objects.get_or_create(username="hq", defaults={"first_name": "本部"})
        hq.set_password(DEMO_PASSWORD)
        hq.save()
        Membership.objects.update_or_create(user=hq, defaults={"branch": None, "role": Membership.Role.MANAGER})
        for code in DEMO_BRANCHES:
            branch = Branch.objects.get(code=code)
            user, _ = User.objects.get_or_create(username=code, defaults={"first_name": f"{branch.name}支部"})
            user.set_password(DEMO_PASSWORD)
            user.save()
            Membership.objects.update_or_create(user=user, defaults={"branch": branch, "role": Membership.Role.STAFF})
        self.stdout.write("デモ用の利用者を用意しました: admin, hq, " + ", ".join(DEMO_BRANCHES))
