"""tickets.sla_deadline: the queue's urgency, denormalised and indexed

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-03

The agents' queue sorted every open ticket of an organisation by a subquery over its clock
rows on each page. The earliest unfired target or breach deadline now lives on the ticket
(kept by desk.sla_store.refresh_queue_deadlines), and two indexes follow the queue's order, so
a page reads one index range per status and priority instead of sorting the table.

The back-fill runs in SQL, by ranges of ticket ids, before the indexes are built. SQLite: a
plain ADD COLUMN and indexes created outside any batch (no table rebuild).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.types

revision = '0014'
down_revision = '0009'
branch_labels = None
depends_on = None

#: Tickets per back-fill statement: large tables are updated in bounded steps.
BATCH = 50_000

# The same expression as desk.sla_store.queue_deadline_of, frozen here as a migration must be.
BACKFILL = """
UPDATE tickets SET sla_deadline = (
    SELECT min(c.deadline) FROM sla_clocks c
    WHERE c.ticket_id = tickets.id
      AND ((c.threshold = 'target' AND c.fired = :false) OR c.threshold = 'breach')
)
WHERE tickets.id BETWEEN :low AND :high
  AND EXISTS (SELECT 1 FROM sla_clocks c WHERE c.ticket_id = tickets.id)
"""

COLUMNS = ['status', 'priority', 'sla_deadline', 'opened_at', 'id']


def upgrade() -> None:
    op.add_column('tickets', sa.Column('sla_deadline', desk.types.UtcDateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    low, high = bind.execute(sa.text("SELECT min(id), max(id) FROM tickets")).one()
    if low is not None:
        update = sa.text(BACKFILL)
        for start in range(low, high + 1, BATCH):
            bind.execute(update, {"false": False, "low": start, "high": start + BATCH - 1})
    op.create_index('ix_tickets_queue_org', 'tickets', ['organisation_id', 'territory_id', *COLUMNS], unique=False)
    op.create_index('ix_tickets_queue_territory', 'tickets', ['territory_id', *COLUMNS], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tickets_queue_territory', table_name='tickets')
    op.drop_index('ix_tickets_queue_org', table_name='tickets')
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), without rebuilding the table.
    with op.batch_alter_table('tickets', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('sla_deadline')
