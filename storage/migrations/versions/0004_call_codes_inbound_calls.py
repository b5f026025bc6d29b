"""call codes on attempts, inbound calls recorded against people, turns' line time

Revision ID: 0004_callcode
Revises: 0002
Create Date: 2026-12-04 16:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004_callcode'
down_revision = '0002'  # chained after the other revisions of this sprint at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
    with op.batch_alter_table('turn', schema=None) as batch_op:
        batch_op.add_column(sa.Column('line_at', sa.Float(), nullable=True))
    op.create_table(
        'inbound_call',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('verified', sa.Boolean(), nullable=False),
        sa.Column('code_attempt_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
        sa.ForeignKeyConstraint(['code_attempt_id'], ['attempt.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('inbound_call', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_call_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_call_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_call', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_call_person_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_call_at'))
    op.drop_table('inbound_call')
    with op.batch_alter_table('turn', schema=None) as batch_op:
        batch_op.drop_column('line_at')
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_column('call_code')
