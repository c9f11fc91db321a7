"""tickets: a theft's replacement waiting for the declaration is `on_hold`, not `waiting`

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

`waiting` means « en attente du demandeur »; the replacement task waits on the school
authority's declaration (DOMAIN.md §9, status `on_hold`). Replacements opened before this
revision still waiting for their declaration move to `on_hold`; the clock stays paused.
"""

from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_REPLACEMENTS_WAITING = """
    status = '{old}' AND sla_policy = 'replacement' AND id IN (
        SELECT linked_ticket_id FROM tickets
        WHERE sla_policy = 'declaration' AND linked_ticket_id IS NOT NULL AND status NOT IN ('resolved', 'closed')
    )
"""


def upgrade() -> None:
    op.execute("UPDATE tickets SET status = 'on_hold' WHERE" + _REPLACEMENTS_WAITING.format(old="waiting"))


def downgrade() -> None:
    op.execute("UPDATE tickets SET status = 'waiting' WHERE" + _REPLACEMENTS_WAITING.format(old="on_hold"))
