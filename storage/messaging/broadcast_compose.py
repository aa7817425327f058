"""An announcement being written: the animator's compose dialog, kept in the database.

The text, photo, translations, audience, button and urgency live in the animator's
`Dialog` (kind `animator_broadcast`), written as each is chosen, so Send works after a
restart or in another process. Sending hands the draft to storage.messaging.broadcasts and
closes the dialog in the same transaction, so a second tap on Send sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.activities.organising import Actor, NotYourActivity, managed_activity
from storage.dialogs import close_dialog, get_dialog, save_dialog
from storage.messaging.broadcasts import (
    Audience,
    BroadcastDraft,
    progress,
    recipients,
    start_broadcast,
)
from storage.models import Activity, Dialog

KIND = "animator_broadcast"
TEXT, READY = "text", "ready"
TRANSLATION_STEPS = {"tr_uk": "uk", "tr_en": "en"}


@dataclass
class Compose:
    """The announcement being written, as stored in the dialog."""

    step: str = TEXT
    text: str = ""
    photo: str | None = None
    translations: dict[str, str] = field(default_factory=dict)
    audience: str | None = None
    audience_activity: int | None = None
    link: int | None = None
    urgent: bool = False

    @classmethod
    def of(cls, dialog: Dialog) -> Compose:
        """Read a stored dialog."""
        d = dialog.data
        return cls(
            dialog.step,
            d.get("text", ""),
            d.get("photo"),
            dict(d.get("translations", {})),
            d.get("audience"),
            d.get("audience_activity"),
            d.get("link"),
            bool(d.get("urgent", False)),
        )

    def data(self) -> dict[str, Any]:
        """What is stored."""
        return {
            "text": self.text,
            "photo": self.photo,
            "translations": self.translations,
            "audience": self.audience,
            "audience_activity": self.audience_activity,
            "link": self.link,
            "urgent": self.urgent,
        }

    def draft(self) -> BroadcastDraft:
        """The rules' view of it."""
        return BroadcastDraft(
            text=self.text,
            audience=Audience(self.audience or Audience.PROGRAMME),
            audience_activity_id=self.audience_activity,
            photo_file_id=self.photo,
            link_activity_id=self.link,
            translations=self.translations,
            urgent=self.urgent,
        )


def _save(session: Session, person_id: int, compose: Compose) -> Compose:
    save_dialog(
        session,
        person_id=person_id,
        kind=KIND,
        step=compose.step,
        data=compose.data(),
        awaits_text=compose.step != READY,
    )
    return compose


def current_compose(session: Session, *, person_id: int) -> Compose | None:
    """The announcement the animator is writing, if any."""
    dialog = get_dialog(session, person_id=person_id, kind=KIND)
    return Compose.of(dialog) if dialog is not None else None


def begin_compose(session: Session, *, actor: Actor, activity_id: int | None) -> Compose:
    """Start writing; from an activity's card, its people and its button are preset."""
    compose = Compose()
    if activity_id is not None:
        managed_activity(session, activity_id=activity_id, actor=actor)
        compose.link = activity_id
        compose.audience = Audience.PLACES.value
        compose.audience_activity = activity_id
    return _save(session, actor.person_id, compose)


def change_compose(session: Session, /, *, person_id: int, **changes: Any) -> Compose:
    """Change fields of the announcement being written (LookupError if there is none)."""
    compose = current_compose(session, person_id=person_id)
    if compose is None:
        raise LookupError("no announcement being written")
    for name, value in changes.items():
        setattr(compose, name, value)
    return _save(session, person_id, compose)


@dataclass(frozen=True)
class Overview:
    """The numbers the ready screen shows."""

    compose: Compose
    count: int
    audience_title: str | None
    link_title: str | None


def compose_overview(session: Session, *, actor: Actor) -> Overview:
    """The announcement with its recipient count and the titles it mentions."""
    compose = current_compose(session, person_id=actor.person_id)
    if compose is None or actor.programme_id is None:
        raise LookupError("no announcement being written")
    audience = Audience(compose.audience or Audience.PROGRAMME)
    count = len(
        recipients(
            session,
            programme_id=actor.programme_id,
            audience=audience,
            activity_id=compose.audience_activity,
            author_id=actor.person_id,
        )
    )
    audience_activity = (
        session.get(Activity, compose.audience_activity) if compose.audience_activity else None
    )
    link = session.get(Activity, compose.link) if compose.link else None
    return Overview(
        compose,
        count,
        audience_activity.title if audience_activity else None,
        link.title if link else None,
    )


def audience_counts(session: Session, *, actor: Actor) -> dict[str, int]:
    """Recipients of the programme-wide audiences, for the audience buttons."""
    assert actor.programme_id is not None
    return {
        a.value: len(
            recipients(
                session, programme_id=actor.programme_id, audience=a, author_id=actor.person_id
            )
        )
        for a in (Audience.PROGRAMME, Audience.NO_INITIAL, Audience.NO_FINAL)
    }


def send_compose(
    session: Session, *, actor: Actor, chat_id: int, message_id: int, now: datetime
) -> tuple[int, int]:
    """Start sending and close the draft, together; returns (broadcast id, recipients)."""
    compose = current_compose(session, person_id=actor.person_id)
    if compose is None or compose.step != READY or actor.programme_id is None:
        raise LookupError("no announcement ready")
    broadcast = start_broadcast(
        session,
        draft=compose.draft(),
        programme_id=actor.programme_id,
        actor=actor,
        progress_chat_id=chat_id,
        now=now,
        progress_message_id=message_id,
    )
    close_dialog(session, person_id=actor.person_id, kind=KIND)
    assert broadcast.id is not None
    return broadcast.id, progress(session, broadcast_id=broadcast.id).total


def set_activity_audience(
    session: Session, *, actor: Actor, audience: str, activity_id: int
) -> Compose:
    """An activity's places or reserve list, if the animator may manage the activity."""
    managed_activity(session, activity_id=activity_id, actor=actor)
    return change_compose(
        session, person_id=actor.person_id, audience=audience, audience_activity=activity_id
    )


def set_link(session: Session, *, actor: Actor, activity_id: int) -> Compose:
    """The activity the announcement's button opens (0: no button), of the programme."""
    if activity_id:
        activity = session.get(Activity, activity_id)
        if activity is None or activity.programme_id != actor.programme_id:
            raise NotYourActivity(activity_id)
    return change_compose(session, person_id=actor.person_id, link=activity_id or None)
