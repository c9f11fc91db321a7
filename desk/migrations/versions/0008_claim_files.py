"""claim files: dated steps and one line per device

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

The claim file of a theft, loss or damage (convention 2023-2027 art. 6): each step dated and signed
by an agent, once per file; one line per device with its value, acquisition date, refund rate and
amount, or « not replaced » past the age limit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import desk.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('claim_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('equipment', sa.String(length=32), nullable=True),
    sa.Column('acquired_on', sa.Date(), nullable=True),
    sa.Column('value_cents', sa.Integer(), nullable=True),
    sa.Column('rate', sa.Integer(), nullable=True),
    sa.Column('refund_cents', sa.Integer(), nullable=True),
    sa.Column('replaced', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'], name=op.f('fk_claim_lines_asset_id_assets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_claim_lines_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_lines'))
    )
    with op.batch_alter_table('claim_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_lines_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('claim_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('recorded_at', desk.types.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_claim_steps_agent_id_agents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_claim_steps_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_steps')),
    sa.UniqueConstraint('ticket_id', 'step', name=op.f('uq_claim_steps_ticket_id_step'))
    )
    with op.batch_alter_table('claim_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_steps_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('claim_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_steps_ticket_id'))

    op.drop_table('claim_steps')
    with op.batch_alter_table('claim_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_lines_ticket_id'))

    op.drop_table('claim_lines')
