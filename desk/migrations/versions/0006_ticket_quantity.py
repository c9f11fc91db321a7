"""tickets: how many devices a report names (« deux tablettes »)

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-03

One ticket can be about several devices of the same kind; the claim file and the refund
count them. Existing tickets are about one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quantity', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('quantity')
