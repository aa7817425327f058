"""place offers: promotion from the reserve list with a deadline

Revision ID: 0005
Revises: 0007
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

import storage.types

revision: str = '0005'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('programme') as batch:
        batch.add_column(sa.Column('offer_time', AutoString(length=20),
                                   nullable=True))
        batch.add_column(sa.Column('offer_first_come',
                                   AutoString(length=20), nullable=True))
    op.create_table('placeoffer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', AutoString(length=16), nullable=False),
    sa.Column('state', AutoString(length=16), nullable=False),
    sa.Column('deadline', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('answered_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_placeoffer_activity_state', 'placeoffer', ['activity_id', 'state'],
                    unique=False)
    op.create_index('ix_placeoffer_registration', 'placeoffer', ['registration_id', 'state'],
                    unique=False)
    op.create_index('ix_placeoffer_state_deadline', 'placeoffer', ['state', 'deadline'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_placeoffer_state_deadline', table_name='placeoffer')
    op.drop_index('ix_placeoffer_registration', table_name='placeoffer')
    op.drop_index('ix_placeoffer_activity_state', table_name='placeoffer')
    op.drop_table('placeoffer')
    with op.batch_alter_table('programme') as batch:
        batch.drop_column('offer_first_come')
        batch.drop_column('offer_time')
