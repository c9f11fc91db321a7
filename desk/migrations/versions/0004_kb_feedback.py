"""knowledge base: article feedback votes and tutorial deflections

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.types

revision = '0004'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'kb_feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=120), nullable=False),
        sa.Column('helpful', sa.Boolean(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('created_at', desk.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_kb_feedback_ticket_id_tickets'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_feedback')),
    )
    with op.batch_alter_table('kb_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_feedback_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_feedback_slug'), ['slug'], unique=False)

    op.create_table(
        'kb_deflections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=120), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=True),
        sa.Column('created_at', desk.types.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('solved', 'not_solved')", name=op.f('ck_kb_deflections_outcome')),
        sa.ForeignKeyConstraint(['requester_id'], ['requesters.id'], name=op.f('fk_kb_deflections_requester_id_requesters'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_deflections')),
    )
    with op.batch_alter_table('kb_deflections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_deflections_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_deflections_slug'), ['slug'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kb_deflections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_deflections_slug'))
        batch_op.drop_index(batch_op.f('ix_kb_deflections_created_at'))
    op.drop_table('kb_deflections')
    with op.batch_alter_table('kb_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_feedback_slug'))
        batch_op.drop_index(batch_op.f('ix_kb_feedback_created_at'))
    op.drop_table('kb_feedback')
