"""Which function writes the message of each kind of pending send: the one table.

A renderer builds the message when the send goes out (in the person's language, from the
database as it is then), or returns None when the send is no longer relevant.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from schedules.broadcast import render_broadcast
from schedules.call_list_notice import render_call_list
from schedules.consultations import render_opening, render_results
from schedules.messages import Renderer
from schedules.notices import render_promotion
from schedules.offer_notices import render_offer, render_offer_expired
from schedules.reminder_notices import render_change, render_reminder
from schedules.survey_followups import render_survey_followup, render_survey_invite
from storage.models import SendKind

RENDERERS: Mapping[str, Renderer] = MappingProxyType(
    {
        SendKind.REMINDER.value: render_reminder,
        SendKind.CHANGE.value: render_change,
        SendKind.PROMOTION.value: render_promotion,
        SendKind.PLACE_OFFER.value: render_offer,
        SendKind.OFFER_EXPIRED.value: render_offer_expired,
        SendKind.CALL_LIST.value: render_call_list,
        SendKind.SURVEY_INVITE.value: render_survey_invite,
        SendKind.SURVEY_FOLLOWUP.value: render_survey_followup,
        SendKind.BROADCAST.value: render_broadcast,
        SendKind.CONSULTATION.value: render_opening,
        SendKind.CONSULTATION_RESULTS.value: render_results,
    }
)
