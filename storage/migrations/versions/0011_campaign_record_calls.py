"""campaign.record_calls: keep the whole call as a stereo recording (issue 25 item 3)

Revision ID: 0011_recordcalls
Revises: 0010_codeguess
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_recordcalls'
down_revision = '0010_codeguess'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_calls', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('record_calls')
