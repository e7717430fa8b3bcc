"""CDS Hooks feedback (2.0.1, "Feedback"): what users did with the cards we returned.

Two halves share one store:

- `record_cards` is called when a hook answers, with one `IssuedCard` per card returned, so that
  feedback can be checked against what this service really issued (card uuid, service, rule,
  suggestion uuids).
- `record_feedback` takes the body of `POST /cds-services/{id}/feedback` as the client sent it:
  `{"feedback": [{card, outcome, acceptedSuggestions, overrideReason, outcomeTimestamp}]}`.

Tolerant in what it accepts: unknown fields (the specification's `extension`, future fields) are
dropped, `urn:uuid:` in front of a card or suggestion id is removed, a timestamp with an offset or
no zone is read as the UTC instant it names, and the older `overrideReason {code, system, display}`
(the Coding directly, without `reason`) is normalised to the current `{reason: Coding,
userComment}`. Strict on the rest: types, required fields, `outcome` is `accepted` or
`overridden`, `acceptedSuggestions` (required) only with `accepted`, `overrideReason` only with
`overridden`, a Coding has `code` and `system`. A body is stored whole or not at all.

Idempotent: each entry gets a key, the SHA-256 of its normalised content (card, outcome, instant,
the set of accepted suggestion ids, reason code, system and display, comment). The key is unique
in the table and inserts skip an existing key, so a client posting the same feedback twice, or two
workers receiving it at once, store it once. Anything that differs (a later timestamp, another
comment) is a new entry, as the specification expects feedback for a card more than once.

Storage is SQLAlchemy 2 Core on SQLite (default; WAL, foreign keys on, `BEGIN IMMEDIATE` for writes)
or PostgreSQL through psycopg 3. One engine per process (re-made after a fork), a connection per
call, so gunicorn sync workers can share the file or server. Tables are created when missing;
`cds_hooks_meta` holds the schema version and a store refuses a database of another version.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema
from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    distinct,
    event,
    func,
    select,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError

from ..exceptions import ConfigurationError, InputError
from ..schemas import flatten_errors

_log = logging.getLogger("cds")
WRITE_BEHIND_SECONDS = 0.02  # issued cards gathered per transaction
_WRITER_IDLE_SECONDS = 10.0  # an idle writer thread ends (and lets its store go); the next card starts one

SCHEMA_VERSION = 1
OUTCOMES = ("accepted", "overridden")
MAX_ENTRIES = 500  # per request; the 1 MiB body limit bounds it too
MAX_SUGGESTIONS = 100  # accepted suggestions per entry
_ID = validate.Length(min=1, max=200)
_CODE = validate.Length(min=1, max=256)
_SYSTEM = validate.Length(min=1, max=1024)
_DISPLAY = validate.Length(max=1024)
_COMMENT = validate.Length(max=10_000)
_SQLITE_FILE = "feedback.sqlite3"
_SCHEMA_LOCK = 0x4C444E_434453_46  # "LDNCDSF": PostgreSQL advisory lock held while creating tables


# --- public types ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCard:
    """A card as returned by a hook call, recorded so that feedback can be checked against it."""

    uuid: str
    service_id: str
    rule_id: str
    rule_version: str
    hook_instance: str | None
    suggestion_ids: tuple[str, ...]
    issued_at: datetime


@dataclass(frozen=True)
class FeedbackEntry:
    """One stored feedback entry; the override reason is always a Coding (code, system, display)."""

    card: str
    outcome: str
    outcome_timestamp: datetime  # aware, UTC
    accepted_suggestions: tuple[str, ...]
    override_code: str | None
    override_system: str | None
    override_display: str | None
    user_comment: str | None


class InvalidFeedback(InputError):
    """The body breaks the feedback shape. `errors` maps a field path to its reasons."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors, "Invalid feedback")


class UnknownCard(InputError):
    """Feedback names a card this service did not issue (unknown, or issued by another service).

    `card` is the first such card, `index` its entry in `feedback`; `errors` says the same as a
    field path, for a problem response. The message is the same in both cases, so a caller learns
    nothing about other services' cards.
    """

    def __init__(self, card: str, service_id: str, index: int | None = None) -> None:
        self.card = card
        self.service_id = service_id
        self.index = index
        path = f"feedback[{index}].card" if index is not None else "card"
        super().__init__({path: [f"No card {card!r} was issued by service {service_id!r}."]}, "Unknown card")


# --- the request schema ---------------------------------------------------------------------------


class _Id(fields.String):
    """A card or suggestion uuid as sent; a leading `urn:uuid:` is dropped."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return text[9:] if text[:9].lower() == "urn:uuid:" else text


class _Timestamp(fields.Field):
    """An ISO 8601 / RFC 3339 date-time, returned as an aware UTC datetime (no zone means UTC)."""

    default_error_messages = {"invalid": "Not a valid ISO 8601 date-time (for example 2021-12-11T10:05:31Z)."}
    _SHAPE = re.compile(r"\d{4}-?\d{2}-?\d{2}[T ]\d{2}")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 64 or not self._SHAPE.match(value.upper()):
            raise self.make_error("invalid")
        try:
            parsed = datetime.fromisoformat(value.upper())
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return parsed.astimezone(timezone.utc)
        except (ValueError, OverflowError):
            raise self.make_error("invalid") from None


class _Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE  # the specification allows extensions and may add fields


class _Coding(_Tolerant):
    code = fields.String(required=True, validate=_CODE)
    system = fields.String(required=True, validate=_SYSTEM)
    display = fields.String(allow_none=True, validate=_DISPLAY)


class _OverrideReason(_Tolerant):
    reason = fields.Nested(_Coding, allow_none=True)
    userComment = fields.String(allow_none=True, validate=_COMMENT)
    # The older shape: the Coding's own fields directly on overrideReason.
    code = fields.String(validate=_CODE)
    system = fields.String(validate=_SYSTEM)
    display = fields.String(allow_none=True, validate=_DISPLAY)

    @validates_schema
    def _one_shape(self, data: dict[str, Any], **kwargs: Any) -> None:
        older = [name for name in ("code", "system", "display") if data.get(name) is not None]
        if older and data.get("reason") is not None:
            raise ValidationError("Give the Coding as reason {code, system}, or (older shape) code and "
                                  "system directly, not both.", "reason")
        if older:
            missing = {name: ["Missing data for required field."] for name in ("code", "system") if name not in data}
            if missing:
                raise ValidationError(missing)

    @post_load
    def _normalise(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        coding = data.get("reason")
        if coding is None and "code" in data:
            coding = {"code": data["code"], "system": data["system"], "display": data.get("display")}
        return {"reason": coding, "userComment": data.get("userComment")}


class _AcceptedSuggestion(_Tolerant):
    id = _Id(required=True, validate=_ID)


class _Feedback(_Tolerant):
    card = _Id(required=True, validate=_ID)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    acceptedSuggestions = fields.Nested(_AcceptedSuggestion, many=True, allow_none=True,
                                        validate=validate.Length(max=MAX_SUGGESTIONS))
    overrideReason = fields.Nested(_OverrideReason, allow_none=True)
    outcomeTimestamp = _Timestamp(required=True)

    @validates_schema
    def _outcome_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        accepted = data["outcome"] == "accepted"
        if accepted and not data.get("acceptedSuggestions"):
            errors["acceptedSuggestions"] = ["Required when outcome is accepted: the ids of the accepted suggestions."]
        if not accepted and data.get("acceptedSuggestions"):
            errors["acceptedSuggestions"] = ["Only with outcome accepted."]
        if accepted and data.get("overrideReason") is not None:
            errors["overrideReason"] = ["Only with outcome overridden."]
        if errors:
            raise ValidationError(errors)


class _FeedbackRequest(_Tolerant):
    feedback = fields.Nested(_Feedback, many=True, required=True,
                             validate=validate.Length(min=1, max=MAX_ENTRIES))


_REQUEST = _FeedbackRequest()


# --- tables ---------------------------------------------------------------------------------------


class _UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on every backend, read back as aware UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


_metadata = MetaData()

_meta = Table(
    "cds_hooks_meta", _metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)
_cards = Table(
    "cds_hooks_card", _metadata,
    Column("uuid", String, primary_key=True),
    Column("service_id", String, nullable=False),
    Column("rule_id", String, nullable=False, index=True),
    Column("rule_version", String, nullable=False),
    Column("hook_instance", String),
    Column("issued_at", _UTCDateTime, nullable=False),
)
_card_suggestions = Table(
    "cds_hooks_card_suggestion", _metadata,
    Column("card_uuid", String, ForeignKey("cds_hooks_card.uuid", ondelete="CASCADE"), primary_key=True),
    Column("suggestion_id", String, primary_key=True),
)
_feedback = Table(
    "cds_hooks_feedback", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_key", String(64), nullable=False, unique=True),
    Column("card_uuid", String, ForeignKey("cds_hooks_card.uuid", ondelete="CASCADE"), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("outcome_timestamp", _UTCDateTime, nullable=False),
    Column("override_code", String),
    Column("override_system", String),
    Column("override_display", String),
    Column("user_comment", Text),
    Column("received_at", _UTCDateTime, nullable=False),
    CheckConstraint("outcome IN ('accepted', 'overridden')", name="cds_hooks_feedback_outcome"),
)
# Token ids (JWT `jti`) already used, shared by every worker process: replay protection.
_token_ids = Table(
    "cds_hooks_token_id", _metadata,
    Column("iss", String, primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("expires_at", Integer, nullable=False, index=True),
)
_feedback_suggestions = Table(
    "cds_hooks_feedback_suggestion", _metadata,
    Column("feedback_id", Integer, ForeignKey("cds_hooks_feedback.id", ondelete="CASCADE"), primary_key=True),
    Column("suggestion_id", String, primary_key=True),
    Column("card_uuid", String, nullable=False),
    Column("position", Integer, nullable=False),
    ForeignKeyConstraint(["card_uuid", "suggestion_id"],
                         ["cds_hooks_card_suggestion.card_uuid", "cds_hooks_card_suggestion.suggestion_id"]),
)


# --- the store ------------------------------------------------------------------------------------


def normalise_database_url(url: str | URL) -> URL:
    """`postgres://` and `postgresql://` mean psycopg 3 (the driver installed); other URLs as given."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError("DATABASE_URL is not a database URL (e.g. postgresql+psycopg://user@host/db "
                                 "or sqlite:////path/feedback.sqlite3)") from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


class TokenIds:
    """A JwtStore-compatible replay check kept in the database, so that every gunicorn worker (and
    every instance behind a load balancer) refuses a token another one has already accepted."""

    def __init__(self, engine: Any, leeway_seconds: int = 30) -> None:
        self._engine = engine
        self._leeway = leeway_seconds

    def seen_before(self, iss: str, jti: str, exp: int) -> bool:
        try:
            with self._engine.begin() as conn:
                conn.execute(_token_ids.delete().where(_token_ids.c.expires_at < int(time.time())))
                conn.execute(_token_ids.insert(), {"iss": iss, "jti": jti[:255], "expires_at": int(exp) + self._leeway})
        except IntegrityError:
            return True
        return False


class FeedbackStore:
    """Issued cards and the feedback on them, in SQLite or PostgreSQL."""

    def __init__(self, database_url: str) -> None:
        url = normalise_database_url(database_url)
        self._dialect = url.get_backend_name()
        if self._dialect == "sqlite":
            self._engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(self._engine, "connect", _sqlite_connect)
            event.listen(self._engine, "begin", _sqlite_begin)
        elif self._dialect == "postgresql":
            args = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
            self._engine = create_engine(url, pool_pre_ping=True, connect_args=args)
        else:
            raise ConfigurationError(f"the feedback store runs on SQLite or PostgreSQL, not {self._dialect!r}")
        self._pid = os.getpid()
        self._closed = False
        self._pending: list[IssuedCard] = []
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_pid = 0
        _OPEN_STORES.add(self)
        try:
            self._prepare_when_unlocked()
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def token_ids(self) -> TokenIds:
        """The shared JWT replay check, in the same database."""
        return TokenIds(self._engine)

    def __repr__(self) -> str:
        return f"FeedbackStore({self._engine.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --

    def record_cards(self, cards: Iterable[IssuedCard]) -> None:
        """Remember cards as issued (a card uuid already recorded is left as it is).

        Written behind the response: a background thread of this process writes what gathered in
        the last WRITE_BEHIND_SECONDS in one transaction, so a hook call does not wait for a commit
        (nor for another worker's write lock). Feedback comes seconds after a card at the earliest;
        this process flushes before it reads, and close() flushes what is left."""
        cards = list(cards)
        if not cards:
            return
        with self._pending_lock:
            self._pending.extend(cards)
        self._start_writer()
        self._wake.set()

    def flush(self) -> None:
        """Write the cards waiting to be recorded now."""
        with self._flush_lock:
            with self._pending_lock:
                batch, self._pending = self._pending, []
            rows, suggestions = [], []
            for issued in batch:
                rows.append({"uuid": issued.uuid, "service_id": issued.service_id, "rule_id": issued.rule_id,
                             "rule_version": issued.rule_version, "hook_instance": issued.hook_instance,
                             "issued_at": issued.issued_at})
                suggestions += [{"card_uuid": issued.uuid, "suggestion_id": s}
                                for s in dict.fromkeys(issued.suggestion_ids)]
            if not rows:
                return
            try:
                with self._transaction(write=True) as conn:
                    conn.execute(self._insert_ignoring(_cards, ["uuid"]), rows)
                    if suggestions:
                        conn.execute(self._insert_ignoring(_card_suggestions, ["card_uuid", "suggestion_id"]),
                                     suggestions)
            except BaseException:
                with self._pending_lock:  # kept for the next try: a database that is back later gets them
                    self._pending[:0] = batch
                raise

    def _start_writer(self) -> None:
        with self._pending_lock:
            if self._writer is not None and self._writer_pid == os.getpid():
                return
            self._writer_pid = os.getpid()  # a forked worker starts its own writer
            self._writer = threading.Thread(target=self._write_behind, name="ldn-cds-card-writer", daemon=True)
            self._writer.start()

    def _write_behind(self) -> None:
        while not self._closed:
            if not self._wake.wait(timeout=_WRITER_IDLE_SECONDS):
                with self._pending_lock:  # idle: end, unless cards came in meanwhile (then go on)
                    if not self._pending:
                        self._writer = None
                        return
            time.sleep(WRITE_BEHIND_SECONDS)  # gather what else arrives meanwhile into one transaction
            self._wake.clear()
            try:
                self.flush()
            except Exception as error:  # the cards reached the clinician; feedback on them is refused later
                _log.error("could not record issued cards", extra={"error_type": type(error).__name__})
                time.sleep(1.0)

    def record_feedback(self, service_id: str, body: Any) -> list[FeedbackEntry]:
        """Validate and store a feedback body for `service_id`; the stored entries, in body order.

        Raises InvalidFeedback (shape, or a suggestion id that is not on the card) or UnknownCard
        (a card this service did not issue); either way nothing from the body is stored.
        """
        try:
            entries = _REQUEST.load(body)["feedback"]
        except ValidationError as error:
            raise InvalidFeedback(flatten_errors(error.messages)) from None
        self.flush()  # cards this process issued moments ago
        with self._transaction(write=True) as conn:
            wanted = list(dict.fromkeys(entry["card"] for entry in entries))
            owners = dict(conn.execute(select(_cards.c.uuid, _cards.c.service_id)
                                       .where(_cards.c.uuid.in_(wanted))).all())
            offered: dict[str, set[str]] = {}
            for card_uuid, suggestion_id in conn.execute(
                    select(_card_suggestions.c.card_uuid, _card_suggestions.c.suggestion_id)
                    .where(_card_suggestions.c.card_uuid.in_(wanted))):
                offered.setdefault(card_uuid, set()).add(suggestion_id)
            errors: dict[str, list[str]] = {}
            for index, entry in enumerate(entries):
                if owners.get(entry["card"]) != service_id:
                    raise UnknownCard(entry["card"], service_id, index)
                for position, accepted in enumerate(entry.get("acceptedSuggestions") or ()):
                    if accepted["id"] not in offered.get(entry["card"], ()):
                        errors[f"feedback[{index}].acceptedSuggestions[{position}].id"] = [
                            f"Card {entry['card']!r} has no suggestion {accepted['id']!r}."]
            if errors:
                raise InvalidFeedback(errors)
            keys = list(dict.fromkeys(self._store_entry(conn, entry) for entry in entries))
            return self._entries(conn, _feedback.c.entry_key.in_(keys), order=keys)

    def _store_entry(self, conn: Connection, entry: dict[str, Any]) -> str:
        suggestions = list(dict.fromkeys(s["id"] for s in entry.get("acceptedSuggestions") or ()))
        reason = entry.get("overrideReason") or {}
        coding = reason.get("reason") or {}
        row = {"card_uuid": entry["card"], "outcome": entry["outcome"],
               "outcome_timestamp": entry["outcomeTimestamp"], "override_code": coding.get("code"),
               "override_system": coding.get("system"), "override_display": coding.get("display"),
               "user_comment": reason.get("userComment")}
        canonical = [row["card_uuid"], row["outcome"], row["outcome_timestamp"].isoformat(timespec="microseconds"),
                     sorted(suggestions), row["override_code"], row["override_system"],
                     row["override_display"], row["user_comment"]]
        key = hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()
        conn.execute(self._insert_ignoring(_feedback, ["entry_key"]),
                     {**row, "entry_key": key, "received_at": datetime.now(timezone.utc)})
        if suggestions:  # (rowcount after ON CONFLICT differs between drivers: insert these idempotently too)
            feedback_id = conn.scalar(select(_feedback.c.id).where(_feedback.c.entry_key == key))
            conn.execute(self._insert_ignoring(_feedback_suggestions, ["feedback_id", "suggestion_id"]), [
                {"feedback_id": feedback_id, "card_uuid": row["card_uuid"], "suggestion_id": s, "position": n}
                for n, s in enumerate(suggestions)])
        return key

    # -- reading --

    def feedback_for(self, card: str) -> list[FeedbackEntry]:
        """Every entry stored for a card, oldest outcome first."""
        with self._transaction(write=False) as conn:
            return self._entries(conn, _feedback.c.card_uuid == card)

    def summary(self) -> dict[str, Any]:
        """Counts for reporting, per rule id.

        `cardsIssued`; `accepted` and `overridden` count distinct cards with at least one entry of
        that outcome (a card posted twice counts once); `feedbackEntries` counts stored entries;
        `overrideReasons` counts overridden entries per reason Coding.
        """
        self.flush()
        with self._transaction(write=False) as conn:
            rules: dict[str, dict[str, Any]] = {}

            def rule(rule_id: str) -> dict[str, Any]:
                return rules.setdefault(rule_id, {"cardsIssued": 0, "accepted": 0, "overridden": 0,
                                                  "feedbackEntries": 0, "overrideReasons": []})

            for rule_id, count in conn.execute(select(_cards.c.rule_id, func.count())
                                               .group_by(_cards.c.rule_id)):
                rule(rule_id)["cardsIssued"] = count
            joined = _feedback.join(_cards, _feedback.c.card_uuid == _cards.c.uuid)
            for rule_id, outcome, cards, entries in conn.execute(
                    select(_cards.c.rule_id, _feedback.c.outcome, func.count(distinct(_feedback.c.card_uuid)),
                           func.count()).select_from(joined).group_by(_cards.c.rule_id, _feedback.c.outcome)):
                rule(rule_id)[outcome] = cards
                rule(rule_id)["feedbackEntries"] += entries
            for rule_id, system, code, count in conn.execute(
                    select(_cards.c.rule_id, _feedback.c.override_system, _feedback.c.override_code, func.count())
                    .select_from(joined)
                    .where(_feedback.c.outcome == "overridden", _feedback.c.override_code.is_not(None))
                    .group_by(_cards.c.rule_id, _feedback.c.override_system, _feedback.c.override_code)
                    .order_by(func.count().desc(), _feedback.c.override_system, _feedback.c.override_code)):
                rule(rule_id)["overrideReasons"].append({"system": system, "code": code, "count": count})
        return {
            "schemaVersion": SCHEMA_VERSION,
            "cardsIssued": sum(r["cardsIssued"] for r in rules.values()),
            "feedbackEntries": sum(r["feedbackEntries"] for r in rules.values()),
            "rules": dict(sorted(rules.items())),
        }

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._closed = True
            self._wake.set()
            self._engine.dispose()

    # -- internals --

    def _flush_at_exit(self) -> None:
        if not self._closed and os.getpid() == self._writer_pid:
            try:
                self.flush()
            except Exception as error:
                _log.error("could not record issued cards at exit", extra={"error_type": type(error).__name__})


    def _prepare_when_unlocked(self, attempts: int = 50) -> None:
        """Workers booting together on a new SQLite file race to switch it to WAL, which SQLite
        answers with "database is locked" at once, whatever the busy timeout: try again shortly."""
        for attempt in range(attempts):
            try:
                return self._prepare()
            except OperationalError as error:
                if self._dialect != "sqlite" or "locked" not in str(error) or attempt == attempts - 1:
                    raise
                self._engine.dispose()
                time.sleep(0.05 + 0.05 * attempt)

    def _prepare(self) -> None:
        """Create missing tables and check the schema version, once, whichever worker comes first."""
        with self._transaction(write=True) as conn:
            if self._dialect == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            _metadata.create_all(conn)
            found = conn.scalar(select(_meta.c.value).where(_meta.c.key == "schema_version"))
            if found is None:
                conn.execute(_meta.insert(), {"key": "schema_version", "value": str(SCHEMA_VERSION)})
            elif found != str(SCHEMA_VERSION):
                raise ConfigurationError(
                    f"the feedback database has schema version {found}; this release reads version "
                    f"{SCHEMA_VERSION} (migrate it, or point DATABASE_URL at another database)")

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        if self._closed:
            raise RuntimeError("the feedback store is closed")
        if os.getpid() != self._pid:  # forked (e.g. gunicorn --preload): never share the parent's connections
            self._engine.dispose(close=False)
            self._pid = os.getpid()
        with self._engine.connect() as conn:
            if write and self._dialect == "sqlite":
                conn.execution_options(ldn_cds_sqlite_begin="IMMEDIATE")  # take the write lock up front
            with conn.begin():
                yield conn

    def _insert_ignoring(self, table: Table, conflict: list[str]) -> Any:
        if self._dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table).on_conflict_do_nothing(index_elements=conflict)

    @staticmethod
    def _entries(conn: Connection, where: Any, order: list[str] | None = None) -> list[FeedbackEntry]:
        rows = conn.execute(select(_feedback).where(where)
                            .order_by(_feedback.c.outcome_timestamp, _feedback.c.id)).all()
        accepted: dict[int, list[str]] = {}
        if rows:
            for feedback_id, suggestion_id in conn.execute(
                    select(_feedback_suggestions.c.feedback_id, _feedback_suggestions.c.suggestion_id)
                    .where(_feedback_suggestions.c.feedback_id.in_([row.id for row in rows]))
                    .order_by(_feedback_suggestions.c.feedback_id, _feedback_suggestions.c.position)):
                accepted.setdefault(feedback_id, []).append(suggestion_id)
        if order is not None:
            position = {key: n for n, key in enumerate(order)}
            rows.sort(key=lambda row: position[row.entry_key])
        return [FeedbackEntry(card=row.card_uuid, outcome=row.outcome, outcome_timestamp=row.outcome_timestamp,
                              accepted_suggestions=tuple(accepted.get(row.id, ())),
                              override_code=row.override_code, override_system=row.override_system,
                              override_display=row.override_display, user_comment=row.user_comment)
                for row in rows]


_OPEN_STORES: weakref.WeakSet[FeedbackStore] = weakref.WeakSet()  # flushed at exit, without keeping them alive


@atexit.register
def _flush_open_stores() -> None:
    for store in list(_OPEN_STORES):
        store._flush_at_exit()


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, decides when a transaction begins (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: no fsync per commit, still never corrupt
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("ldn_cds_sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def store_from_config(config: Mapping[str, Any], instance_path: str) -> FeedbackStore:
    """`DATABASE_URL` when set (e.g. postgresql+psycopg://user:password@host/db), else a SQLite file
    `feedback.sqlite3` in the Flask instance folder (created if missing)."""
    url = config.get("DATABASE_URL")
    if url:
        return FeedbackStore(str(url))
    os.makedirs(instance_path, exist_ok=True)
    return FeedbackStore(URL.create("sqlite", database=os.path.join(instance_path, _SQLITE_FILE)).render_as_string())
