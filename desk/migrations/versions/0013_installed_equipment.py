"""claim_lines: the device installed in place of each one, its new value and the day

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

Convention 2023-2027 art. 6: SEM sends the commune « un état des équipements installés précisant
la nouvelle valeur de ces équipements »; the statement reads these columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('claim_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_tag', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('new_value_cents', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('installed_on', sa.Date(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), without rebuilding the table.
    with op.batch_alter_table('claim_lines', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('installed_on')
        batch_op.drop_column('new_value_cents')
        batch_op.drop_column('new_tag')
