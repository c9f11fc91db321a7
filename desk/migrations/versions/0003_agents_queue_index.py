"""agents' queue: an index to read each ticket's SLA deadlines without touching the table

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-25

The queue orders an organisation's open tickets by their next commitment; this composite
index lets PostgreSQL answer the per-ticket lookup with an index-only scan.
"""

from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_sla_clocks_ticket_deadline', ['ticket_id', 'threshold', 'fired', 'deadline'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_clocks_ticket_deadline')
