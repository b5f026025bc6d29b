"""attempt.sip_dialog: the answered call's SIP dialog state, for a BYE after a worker crash

Revision ID: 0007_sipdialog
Revises: 0006_prompt_recordings
Create Date: 2026-12-04 16:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_sipdialog'
down_revision = '0006_prompt_recordings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sip_dialog', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('sip_dialog')
