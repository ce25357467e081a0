"""fiscal_month is derived by the database from month (GeneratedField), not set by save()."""

import django.db.models.expressions
import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0002_actual_latest_index"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="kpiactual", name="actual_fiscal_month_1_12"),
        migrations.RemoveIndex(model_name="kpiactual", name="actual_target_fiscal_month"),
        migrations.RemoveField(model_name="kpiactual", name="fiscal_month"),
        migrations.AddField(
            model_name="kpiactual",
            name="fiscal_month",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.expressions.CombinedExpression(
                    django.db.models.expressions.CombinedExpression(
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.functions.datetime.ExtractMonth("month"), "+", models.Value(8)
                        ),
                        "%%",
                        models.Value(12),
                    ),
                    "+",
                    models.Value(1),
                ),
                null=True,
                output_field=models.PositiveSmallIntegerField(),
                verbose_name="年度内の月（4月=1）",
            ),
        ),
        migrations.AddIndex(
            model_name="kpiactual",
            index=models.Index(fields=["target", "fiscal_month"], name="actual_target_fiscal_month"),
        ),
    ]
