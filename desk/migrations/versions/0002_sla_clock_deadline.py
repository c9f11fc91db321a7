"""sla clock deadline: the threshold's own instant, kept apart from the watcher's due_at

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline', desk.types.UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE sla_clocks SET deadline = due_at")


def downgrade() -> None:
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.drop_column('deadline')
