"""Roles: staff, manager, hq. Existing members without a branch become headquarters (hq)."""

from django.db import migrations, models


def branchless_members_are_headquarters(apps, schema_editor):
    Membership = apps.get_model("branches", "Membership")
    Membership.objects.filter(branch__isnull=True).update(role="hq")


def headquarters_back_to_managers(apps, schema_editor):
    Membership = apps.get_model("branches", "Membership")
    Membership.objects.filter(role="hq").update(role="manager")


class Migration(migrations.Migration):

    dependencies = [
        ("branches", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="membership",
            name="membership_staff_has_branch",
        ),
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[("staff", "支部担当者"), ("manager", "支部管理者"), ("hq", "本部")],
                default="staff",
                max_length=10,
                verbose_name="役割",
            ),
        ),
        migrations.RunPython(branchless_members_are_headquarters, headquarters_back_to_managers),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("branch__isnull", True), ("role", "hq")),
                    models.Q(models.Q(("role", "hq"), _negated=True), ("branch__isnull", False)),
                    _connector="OR",
                ),
                name="membership_hq_iff_no_branch",
                violation_error_message="本部の所属は支部を空欄に、支部担当者・支部管理者は支部を選んでください。",
            ),
        ),
    ]
