"""followup_source: who named each person of a follow-up (次密接) campaign

Revision ID: 0005_tracing
Revises: 0004_callcode
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005_tracing'
down_revision = '0004_callcode'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'followup_source',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('source_person_id', sa.Integer(), nullable=False),
        sa.Column('source_attempt_id', sa.Integer(), nullable=False),
        sa.Column('source_campaign_id', sa.Integer(), nullable=False),
        sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['source_person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['source_attempt_id'], ['attempt.id']),
        sa.ForeignKeyConstraint(['source_campaign_id'], ['campaign.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('person_id', 'source_person_id', name='uq_followup_source'),
    )
    with op.batch_alter_table('followup_source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_source_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_source_source_person_id'), ['source_person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('followup_source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_source_source_person_id'))
        batch_op.drop_index(batch_op.f('ix_followup_source_person_id'))
    op.drop_table('followup_source')
