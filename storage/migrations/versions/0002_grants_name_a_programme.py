"""grants name a programme: map animator and evaluator grants without one

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

Before this revision a grant without a programme meant "every programme" for /paper
and evaluators, and "the programme they live in" elsewhere. Now only admins have every
programme, so each animator or evaluator grant without a programme becomes grants for:

- the programmes the person has acted in as staff: activities they organise, people
  without Telegram they added, announcements they sent, paper surveys they entered;
- else, when the database holds exactly one programme, that programme;
- else nothing: the grant stays without a programme, which grants no programme. The
  person still sees their menu, which asks them to have an administrator name one
  (`palbot grant animator ID --programme NAME`); the migration says how many are left.

Data only, no schema change. Downgrade keeps the mapped grants (they are valid grants in
the old scheme too, merely narrower).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# Programmes a person has worked in as staff, by the rows that record their work.
_ACTED_IN = sa.text("""
    SELECT a.programme_id FROM activity a JOIN person p ON a.organiser_id = p.id
        WHERE p.telegram_id = :telegram_id
    UNION SELECT c.programme_id FROM person c JOIN person p ON c.created_by_id = p.id
        WHERE p.telegram_id = :telegram_id AND c.programme_id IS NOT NULL
    UNION SELECT b.programme_id FROM broadcast b JOIN person p ON b.author_id = p.id
        WHERE p.telegram_id = :telegram_id
    UNION SELECT r.programme_id FROM surveyresponse r JOIN person p ON r.entered_by_id = p.id
        WHERE p.telegram_id = :telegram_id
""")


def upgrade() -> None:
    bind = op.get_bind()
    unscoped = bind.execute(sa.text(
        "SELECT id, telegram_id, role FROM rolegrant "
        "WHERE programme_id IS NULL AND role IN ('animator', 'evaluator') ORDER BY id"
    )).all()
    if not unscoped:
        return
    programmes = [int(r[0]) for r in bind.execute(sa.text("SELECT id FROM programme")).all()]
    only = programmes if len(programmes) == 1 else []
    mapped = left = 0
    for grant_id, telegram_id, role in unscoped:
        acted = [] if role == 'evaluator' else [
            int(r[0]) for r in bind.execute(_ACTED_IN, {"telegram_id": telegram_id}).all()
            if r[0] is not None]
        targets = sorted(set(acted)) or only
        if not targets:
            left += 1
            continue
        for programme_id in targets:
            exists = bind.execute(sa.text(
                "SELECT 1 FROM rolegrant WHERE telegram_id = :t AND role = :r "
                "AND programme_id = :p"), {"t": telegram_id, "r": role, "p": programme_id}
            ).first()
            if exists is None:
                bind.execute(sa.text(
                    "INSERT INTO rolegrant (telegram_id, role, programme_id, granted_at) "
                    "SELECT telegram_id, role, :p, granted_at FROM rolegrant WHERE id = :id"),
                    {"p": programme_id, "id": grant_id})
        bind.execute(sa.text("DELETE FROM rolegrant WHERE id = :id"), {"id": grant_id})
        mapped += 1
    # Counts only: Telegram ids never go to a log.
    log.info("grants without a programme: %d mapped to programmes", mapped)
    if left:
        log.warning("%d animator/evaluator grants name no programme and now grant none; "
                    "re-grant them with --programme (see README, Roles)", left)


def downgrade() -> None:
    pass
