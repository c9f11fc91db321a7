"""agents.session_epoch: signing out ends every session of the agent

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

Agents' sessions live in an encrypted cookie: clearing it at sign-out did not stop a copy of the
cookie saved before from opening the agent's pages. Each session now carries the agent's epoch
read at sign-in; signing out increments it, so every earlier cookie is refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('agents', sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), without rebuilding the table.
    with op.batch_alter_table('agents', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('session_epoch')
