"""one send budget for every process; claimable broadcast progress

Revision ID: 0003
Revises: 0008
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0003'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sendbudget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('next_slot', sa.Float(), nullable=False),
    sa.Column('next_broadcast_slot', sa.Float(), nullable=False),
    sa.Column('paused_until', sa.Float(), nullable=False),
    sa.Column('last_bulk_slot', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sendbudgetmember',
    sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seen_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('worker')
    )
    op.create_table('sendchathold',
    sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('until', sa.Float(), nullable=False),
    sa.Column('bulk', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('chat_id')
    )
    with op.batch_alter_table('sendchathold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sendchathold_until'), ['until'], unique=False)
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_owner',
                                      sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('progress_lease_until',
                                      storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reported_at', storage.types.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_column('reported_at')
        batch_op.drop_column('progress_lease_until')
        batch_op.drop_column('progress_owner')
    with op.batch_alter_table('sendchathold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sendchathold_until'))
    op.drop_table('sendchathold')
    op.drop_table('sendbudgetmember')
    op.drop_table('sendbudget')
