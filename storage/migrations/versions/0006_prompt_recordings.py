"""prompt recordings: human takes of a dialog version's prompt pieces

Revision ID: 0006_prompt_recordings
Revises: 0005_tracing
Create Date: 2026-12-04 17:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006_prompt_recordings'
down_revision = '0005_tracing'  # the newest on main when this landed
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'prompt_recording',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dialog_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('dialog_version', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('pcm', sa.LargeBinary(), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dialog_name', 'locale', 'dialog_version', 'text', name='uq_prompt_recording_piece'),
    )


def downgrade() -> None:
    op.drop_table('prompt_recording')
