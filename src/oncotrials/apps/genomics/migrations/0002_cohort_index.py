"""The cohort index of mutations: (gene, protein change).

On PostgreSQL it covers current rows only and includes the columns the visibility, class and tier
filters read, so that a cohort count is an index-only scan; SQLite has no included columns, so
there it is a plain two-column index.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

NAME = "mutation_gene_change"


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX {NAME} ON genomics_mutation (gene, protein_change) "
            "INCLUDE (variant_class, patient_id, sample_id, escat_tier) WHERE current"
        )
    else:
        schema_editor.execute(f"CREATE INDEX {NAME} ON genomics_mutation (gene, protein_change)")


def drop(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(f"DROP INDEX {NAME}")


class Migration(migrations.Migration):
    dependencies = [("genomics", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
