"""On PostgreSQL, the database itself refuses UPDATE and DELETE of journal entries."""

from django.db import migrations

CREATE = """
CREATE FUNCTION points_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'points_entry is append-only: %% refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_entry_append_only
    BEFORE UPDATE OR DELETE ON points_entry
    FOR EACH ROW EXECUTE FUNCTION points_entry_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS points_entry_append_only ON points_entry;
DROP FUNCTION IF EXISTS points_entry_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("points", "0002_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
