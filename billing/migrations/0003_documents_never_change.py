"""On PostgreSQL, the database itself refuses UPDATE and DELETE of receipts and credit notes (as
it does for journal entries): an issued document never changes, whatever code or SQL tries."""

from django.db import migrations

TABLES = ["billing_receipt", "billing_creditnote"]

CREATE_FUNCTION = """
CREATE FUNCTION billing_document_never_changes() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% rows never change once issued: %% refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""
CREATE_TRIGGER = """
CREATE TRIGGER {table}_never_changes
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION billing_document_never_changes();
"""
DROP_TRIGGER = "DROP TRIGGER IF EXISTS {table}_never_changes ON {table};"
DROP_FUNCTION = "DROP FUNCTION IF EXISTS billing_document_never_changes();"


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FUNCTION)
        for table in TABLES:
            schema_editor.execute(CREATE_TRIGGER.format(table=table))


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(DROP_TRIGGER.format(table=table))
        schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_receipts_for_orders_paid_before")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
