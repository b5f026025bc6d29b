"""code_guess: call-code guesses per caller number, the callback-code lockout shared by workers

Revision ID: 0010_codeguess
Revises: 0009_inboundleg
Create Date: 2026-12-07 18:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010_codeguess'
down_revision = '0009_inboundleg'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'code_guess',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('code_guess', schema=None) as batch_op:
        batch_op.create_index('ix_code_guess_phone_at', ['phone', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_code_guess_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('code_guess', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_guess_at'))
        batch_op.drop_index('ix_code_guess_phone_at')
    op.drop_table('code_guess')
