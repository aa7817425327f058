"""programme memberships: residents in more than one programme or edition

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('programmemembership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('left_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id', 'programme_id')
    )
    with op.batch_alter_table('programmemembership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programmemembership_person_id'), ['person_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_programmemembership_programme_id'),
                              ['programme_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('programmemembership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programmemembership_programme_id'))
        batch_op.drop_index(batch_op.f('ix_programmemembership_person_id'))
    op.drop_table('programmemembership')
