"""personal data retention: when a ticket's texts, a requester's identity and a file were erased

Revision ID: 0011
Revises: 0013
Create Date: 2026-12-03

`guichet privacy purge` anonymises what is past the territory's retention (RGPD art. 5.1.e) and
marks it, so that each daily pass reads only what is left to do; the figures stay.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.types

revision = '0011'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', desk.types.UtcDateTime(), nullable=True))
    # Outside the batch: SQLite adds a column in place, an index needs no table copy.
    op.create_index('ix_tickets_retention', 'tickets', ['territory_id', 'anonymised_at', 'status'], unique=False)
    with op.batch_alter_table('requesters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', desk.types.UtcDateTime(), nullable=True))
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', desk.types.UtcDateTime(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy of `tickets` would trip the
    # foreign keys of the rows that point at it.
    op.drop_index('ix_tickets_retention', table_name='tickets')
    for table, column in (('attachments', 'erased_at'), ('requesters', 'anonymised_at'),
                          ('tickets', 'anonymised_at')):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
