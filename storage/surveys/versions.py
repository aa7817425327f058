"""Which questionnaire a programme uses, and the versions responses were given to.

A response is answered and scored against the exact version it started with: that
version's normalised definition is kept in `SurveyVersion`. A file changed without a new
version number is refused in favour of the stored version, and a broken file keeps the
last valid one (storage.surveys.questionnaire_files.QuestionnaireCache).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import Programme, SurveyResponse, SurveyVersion
from storage.surveys.questionnaire_files import questionnaire_cache
from storage.surveys.questionnaires import (
    Questionnaire,
    QuestionnaireError,
    default_questionnaire_path,
    from_definition,
)

log = logging.getLogger(__name__)


class SurveyError(Exception):
    """Base of the survey rules' refusals."""


class SurveyUnavailable(SurveyError):
    """The programme's questionnaire cannot be loaded (and no valid version is known)."""


def questionnaire_path(programme: Programme, surveys_dir: str | None = None) -> Path:
    """The file a programme uses: its own (relative to surveys_dir) or the default."""
    return questionnaire_path_of(programme.survey_path, surveys_dir)


def questionnaire_path_of(survey_path: str | None, surveys_dir: str | None = None) -> Path:
    """The file for a programme's `survey_path` setting (None: the default file)."""
    if not survey_path:
        return default_questionnaire_path()
    path = Path(survey_path)
    if not path.is_absolute() and surveys_dir:
        path = Path(surveys_dir) / path
    return path


_DEFINITIONS: dict[tuple[str, str, str], Questionnaire] = {}
_DEFINITIONS_LOCK = threading.Lock()


def _stored(version: SurveyVersion) -> Questionnaire:
    key = (version.questionnaire_id, version.version, version.fingerprint)
    with _DEFINITIONS_LOCK:
        found = _DEFINITIONS.get(key)
    if found is None:
        found = from_definition(version.definition)
        with _DEFINITIONS_LOCK:
            _DEFINITIONS[key] = found
    return found


def stored_version(session: Session, questionnaire_id: str, version: str) -> SurveyVersion | None:
    """The recorded version (with its definition) that responses were given to."""
    return session.exec(
        select(SurveyVersion).where(
            SurveyVersion.questionnaire_id == questionnaire_id, SurveyVersion.version == version
        )
    ).first()


def version_conflict(session: Session, q: Questionnaire) -> str | None:
    """Why `q` may not be used: its version has responses with other content; else None."""
    stored = stored_version(session, q.id, q.version)
    if stored is None or stored.fingerprint == q.fingerprint:
        return None
    return (
        f"version {q.version!r} of {q.id!r} already has responses and its content has "
        f"changed; give the changed file a new version number"
    )


def current_questionnaire(
    session: Session, programme: Programme, surveys_dir: str | None = None
) -> Questionnaire:
    """The questionnaire new responses in a programme get.

    A file edited without a new version keeps the stored version in use (logged), and a
    broken file keeps the last valid one (see QuestionnaireCache).
    """
    return current_questionnaire_of(
        session,
        programme_id=programme.id,
        survey_path=programme.survey_path,
        surveys_dir=surveys_dir,
    )


# File versions known not to conflict with what the database stores: stored with exactly
# this content, or not stored yet (it is then stored from this very content). A stored
# version never changes, so later taps need no query (keyed by the fingerprint).
_MATCHING: set[tuple[str, str, str, str]] = set()
_FINGERPRINT = select(SurveyVersion.fingerprint).where(
    SurveyVersion.questionnaire_id == bindparam("questionnaire_id"),
    SurveyVersion.version == bindparam("version"),
)


def current_questionnaire_of(
    session: Session,
    *,
    programme_id: int | None,
    survey_path: str | None,
    surveys_dir: str | None = None,
) -> Questionnaire:
    """`current_questionnaire` from a programme's columns; usually no query at all."""
    path = questionnaire_path_of(survey_path, surveys_dir)
    try:
        q = questionnaire_cache.get(path)
    except QuestionnaireError as exc:
        log.error("programme %s: questionnaire unusable: %s", programme_id, exc)
        raise SurveyUnavailable(str(path)) from exc
    # Per database: tests and tools may point one process at several.
    key = (str(session.get_bind().engine.url), q.id, q.version, q.fingerprint)
    with _DEFINITIONS_LOCK:
        if key in _MATCHING:
            return q
    fingerprint = session.exec(
        _FINGERPRINT, params={"questionnaire_id": q.id, "version": q.version}
    ).first()
    if fingerprint is None or fingerprint == q.fingerprint:
        with _DEFINITIONS_LOCK:
            _MATCHING.add(key)
        return q
    stored = stored_version(session, q.id, q.version)
    if stored is not None and stored.fingerprint != q.fingerprint:
        log.error(
            "programme %s: %s changed without a new version; keeping the stored version %s",
            programme_id,
            path,
            q.version,
        )
        return _stored(stored)
    return q


def register_version(session: Session, q: Questionnaire) -> SurveyVersion:
    """Record the version responses are about to be given to (once per id and version)."""
    found = stored_version(session, q.id, q.version)
    if found is not None:
        return found
    row = SurveyVersion(
        questionnaire_id=q.id,
        version=q.version,
        fingerprint=q.fingerprint,
        definition=q.definition(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = stored_version(session, q.id, q.version)
        if found is None:
            raise
        return found
    return row


def questionnaire_of(session: Session, response: SurveyResponse) -> Questionnaire:
    """The exact questionnaire version a response was started with."""
    return questionnaire_version(session, response.questionnaire_id, response.questionnaire_version)


# Stored versions never change: once read, a version needs no query again (per database).
_VERSIONS: dict[tuple[str, str, str], Questionnaire] = {}


def questionnaire_version(session: Session, questionnaire_id: str, version: str) -> Questionnaire:
    """A stored questionnaire version; SurveyUnavailable if it was never recorded."""
    key = (str(session.get_bind().engine.url), questionnaire_id, version)
    with _DEFINITIONS_LOCK:
        found = _VERSIONS.get(key)
    if found is not None:
        return found
    stored = stored_version(session, questionnaire_id, version)
    if stored is None:
        raise SurveyUnavailable(f"{questionnaire_id} {version}")
    found = _stored(stored)
    with _DEFINITIONS_LOCK:
        _VERSIONS[key] = found
    return found
