"""tickets: the token of the e-mailed rating link

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-03

A teacher who follows her ticket by e-mail rates it on a page reached by a link; the link
carries a random token, unique, stored on the ticket when the first link is written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A unique index, not a constraint: SQLite adds both without rebuilding the table.
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rating_token', sa.String(length=43), nullable=True))
    op.create_index('ix_tickets_rating_token', 'tickets', ['rating_token'], unique=True)


def downgrade() -> None:
    op.drop_index('ix_tickets_rating_token', table_name='tickets')
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): rebuilding `tickets` would break the foreign keys to it.
    with op.batch_alter_table('tickets', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('rating_token')
