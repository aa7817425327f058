"""Participant codes: the random, stable pseudonym of a person in one programme.

Evaluators only ever see these codes. On erasure the code's `person_id` is cleared and
the answers stay under the code alone.
"""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import ParticipantCode

# No 0/O, 1/I/L: codes are read aloud and copied by hand from paper forms.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    """A random code such as `K7PM4QXD` (8 characters, about 40 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def participant_code(session: Session, *, person_id: int, programme_id: int) -> ParticipantCode:
    """The person's code in a programme, created on first use and never changed."""
    found = session.exec(
        select(ParticipantCode).where(
            ParticipantCode.person_id == person_id, ParticipantCode.programme_id == programme_id
        )
    ).first()
    if found is not None:
        return found
    for _ in range(10):
        code = new_code()
        if session.exec(select(ParticipantCode.id).where(ParticipantCode.code == code)).first():
            continue
        row = ParticipantCode(code=code, person_id=person_id, programme_id=programme_id)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # Another process created this person's code (or took the code) meanwhile.
            again = session.exec(
                select(ParticipantCode).where(
                    ParticipantCode.person_id == person_id,
                    ParticipantCode.programme_id == programme_id,
                )
            ).first()
            if again is not None:
                return again
            continue
        return row
    raise RuntimeError("could not find a free participant code")  # 10 collisions in 2^40
