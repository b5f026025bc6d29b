"""inbound_leg: the SIP dialog of each inbound call in progress, for a BYE after a worker crash

Revision ID: 0009_inboundleg
Revises: 0006_desk
Create Date: 2026-12-04 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009_inboundleg'
down_revision = '0006_desk'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inbound_leg',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('sip_dialog', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('inbound_leg', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_leg_worker'), ['worker'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_leg', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_leg_worker'))
    op.drop_table('inbound_leg')
