"""SQLModel tables. Import from here; the split into modules follows the domain."""

from storage.models.activities import (
    Activity,
    ActivitySeries,
    ActivityStatus,
    Programme,
    Registration,
    RegistrationStatus,
)
from storage.models.audit import AuditEntry
from storage.models.budget import SendBudget, SendBudgetMember, SendChatHold
from storage.models.consultations import (
    AnswerChannel,
    Consultation,
    ConsultationAudience,
    ConsultationResponse,
    ConsultationState,
)
from storage.models.invitations import Invitation
from storage.models.offers import OfferKind, OfferState, PlaceOffer
from storage.models.outbox import Broadcast, BroadcastState, PendingSend, SendKind, SendState
from storage.models.people import Dialog, Person, ProgrammeMembership, Role, RoleGrant
from storage.models.surveys import ParticipantCode, SurveyAnswer, SurveyResponse, SurveyVersion

__all__ = [
    "Activity",
    "ActivitySeries",
    "ActivityStatus",
    "AnswerChannel",
    "AuditEntry",
    "Broadcast",
    "BroadcastState",
    "Consultation",
    "ConsultationAudience",
    "ConsultationResponse",
    "ConsultationState",
    "Dialog",
    "Invitation",
    "OfferKind",
    "OfferState",
    "ParticipantCode",
    "PendingSend",
    "Person",
    "PlaceOffer",
    "Programme",
    "ProgrammeMembership",
    "Registration",
    "RegistrationStatus",
    "Role",
    "RoleGrant",
    "SendBudget",
    "SendBudgetMember",
    "SendChatHold",
    "SendKind",
    "SendState",
    "SurveyAnswer",
    "SurveyResponse",
    "SurveyVersion",
]
