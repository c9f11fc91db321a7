"""asset logbook and status

Revision ID: 0009
Revises: 0011
Create Date: 2026-12-03

The device's logbook (« carnet de bord attaché au matériel », seed 000): one row per change of the
inventory (created, edited, moved, retired, stolen, a note), with who, when, why and the details
before and after; and the device's recorded status (DOMAIN.md §9).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.types


revision = '0009'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('asset_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('at', desk.types.UtcDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_asset_events_asset_id_assets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_events'))
    )
    with op.batch_alter_table('asset_events', schema=None) as batch_op:
        batch_op.create_index('ix_asset_events_asset_at', ['asset_id', 'at'], unique=False)

    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='in_service', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_column('status')

    with op.batch_alter_table('asset_events', schema=None) as batch_op:
        batch_op.drop_index('ix_asset_events_asset_at')

    op.drop_table('asset_events')
