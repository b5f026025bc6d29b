"""do-not-call list: kind, expiry (suppression), who added it, where it was said; campaign priority

Revision ID: 0006_desk
Revises: 0005_tracing
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006_desk'
down_revision = '0007_sipdialog'  # chained after the crash branch's dialog-state column at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='5'))
    with op.batch_alter_table('do_not_call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='manual'))
        batch_op.add_column(sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attempt_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('do_not_call', schema=None) as batch_op:
        batch_op.drop_column('attempt_id')
        batch_op.drop_column('campaign_id')
        batch_op.drop_column('added_by')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('kind')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('priority')
