from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("genomics", "0005_mutation_origin_oncogenicity_normal"),
    ]

    operations = [
        migrations.AddField(
            model_name="genomicreport",
            name="limit_of_detection",
            field=models.FloatField(
                blank=True,
                help_text="Lowest VAF (a fraction: 0.002 is 0.2 %) the assay reliably detects",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="structuralvariant",
            name="site1_exon",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="structuralvariant",
            name="site2_exon",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="structuralvariant",
            name="site1_transcript",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="structuralvariant",
            name="site2_transcript",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
