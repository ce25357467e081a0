from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from branches.models import Branch, Membership

DEMO_PASSWORD = "kpitrack-demo"
ADMIN_PASSWORD = "kpitrack-admin"
DEMO_BRANCHES = ("tochigi", "kagoshima", "tokyo", "gifu")
# username → (branch code or None for headquarters, role)
DEMO_MEMBERS: dict[str, tuple[str | None, str]] = {
    "hq": (None, Membership.Role.HQ),
    **{code: (code, Membership.Role.STAFF) for code in DEMO_BRANCHES},
    "tochigi-manager": ("tochigi", Membership.Role.MANAGER),
}


class Command(BaseCommand):
    help = (
        "デモ用の利用者（本部・4支部の担当者・栃木支部の管理者・管理サイトの管理者）を作成します。"
        "何度実行しても同じ結果になります。"
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        Branch.objects.sync_prefectures()
        admin, _ = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(ADMIN_PASSWORD)
        admin.save()
        for username, (code, role) in DEMO_MEMBERS.items():
            branch = Branch.objects.get(code=code) if code else None
            first_name = f"{branch.name}支部" if branch else "本部"
            user, _ = User.objects.get_or_create(username=username, defaults={"first_name": first_name})
            user.set_password(DEMO_PASSWORD)
            user.save()
            Membership.objects.update_or_create(user=user, defaults={"branch": branch, "role": role})
        self.stdout.write("デモ用の利用者を用意しました: admin, " + ", ".join(DEMO_MEMBERS))
