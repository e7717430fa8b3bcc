"""The feedback store (cds/hooks/feedback.py), on SQLite and on a real PostgreSQL.

Every store test runs twice: on a SQLite file in the test's tmp dir, and on PostgreSQL in a
schema of its own. PostgreSQL is `TEST_DATABASE_URL` (or a postgresql `DATABASE_URL`) when set;
otherwise a throwaway server is made once per session with initdb + pg_ctl on a free loopback
port (as an unprivileged user when we run as root, since initdb refuses root). Without PostgreSQL
binaries those tests are skipped, or fail when REQUIRE_POSTGRESQL=1 (as `.ci/run` sets).
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cds.exceptions import ConfigurationError, InputError
from cds.hooks.feedback import (
    FeedbackEntry,
    FeedbackStore,
    InvalidFeedback,
    IssuedCard,
    UnknownCard,
    normalise_database_url,
    store_from_config,
)

from . import SHARED_EXAMPLES

SERVICE = "ldn-order-sign-v1"
OTHER_SERVICE = "ldn-patient-view-v1"
SPEC_EXAMPLES = SHARED_EXAMPLES / "spec-2.0.1"

# The three feedback examples of CDS Hooks 2.0.1, as published (also in ../shared/examples, compared below).
EXAMPLES: dict[str, dict[str, Any]] = {
    "feedback-accepted-example.json": {"feedback": [{
        "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719", "outcome": "accepted",
        "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
        "outcomeTimestamp": "2021-12-11T10:05:31Z"}]},
    "feedback-overridden-example.json": {"feedback": [{
        "card": "f6b95768-b1c8-40dc-8385-bf3504b82ffb", "outcome": "overridden",
        "outcomeTimestamp": "2020-12-11T00:00:00Z"}]},
    "feedback-overridden-with-reason-example.json": {"feedback": [{
        "card": "9368d37b-283f-44a0-93ea-547cebab93ed", "outcome": "overridden",
        "overrideReason": {"reason": {"code": "d7ecf885",
                                      "system": "https://example.com/cds-hooks/override-reason-system"},
                           "userComment": "A comment entered by the clinician."},
        "outcomeTimestamp": "2020-12-11T00:00:00Z"}]},
}
REASONS = "https://example.org/ldn-cds/override-reasons"


# --- a throwaway PostgreSQL -----------------------------------------------------------------------


def _postgresql_bindir() -> Path | None:
    """A directory with initdb, pg_ctl and postgres: from PATH first, then Debian's /usr/lib/postgresql/N/bin."""
    candidates = []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for directory in candidates:
        if all((directory / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def _unprivileged_user() -> pwd.struct_passwd:
    """initdb and postgres refuse root: use the postgres account, or make a system account for it."""
    for name in ("postgres", "ldn-cds-pg"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", "ldn-cds-pg"], check=True, capture_output=True)
    return pwd.getpwnam("ldn-cds-pg")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _TemporaryPostgreSQL:
    """initdb into a fresh directory in /tmp, pg_ctl start on 127.0.0.1, stop and remove afterwards."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user = _unprivileged_user() if os.geteuid() == 0 else None
        self.base = Path(tempfile.mkdtemp(prefix="ldn-cds-pg-"))  # not under pytest's root-only tmp dir
        self.data = self.base / "data"
        self.password = secrets.token_urlsafe(16)
        self.port = 0

    def _run(self, *command: str | Path) -> subprocess.CompletedProcess[str]:
        argv = [str(part) for part in command]
        if self.user is not None:
            argv = (["runuser", "-u", self.user.pw_name, "--", *argv] if shutil.which("runuser")
                    else ["su", "-s", "/bin/sh", self.user.pw_name, "-c", shlex.join(argv)])
        return subprocess.run(argv, cwd=self.base, capture_output=True, text=True, timeout=120)

    def _log(self) -> str:
        log = self.base / "postgres.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else "(no server log)"

    def start(self) -> str:
        password_file = self.base / "password"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        if self.user is not None:
            for path in (self.base, password_file):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        done = self._run(self.bindir / "initdb", "-D", self.data, "-U", "postgres", "--auth=scram-sha-256",
                         f"--pwfile={password_file}", "--encoding=UTF8", "--locale=C", "--no-sync")
        if done.returncode:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        password_file.unlink()
        for _attempt in range(3):  # another process may take the free port first
            self.port = _free_port()
            options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.base} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            done = self._run(self.bindir / "pg_ctl", "-D", self.data, "-l", self.base / "postgres.log",
                             "-o", options, "-w", "-t", "60", "start")
            if done.returncode == 0:
                return f"postgresql+psycopg://postgres:{self.password}@127.0.0.1:{self.port}/postgres"
        raise RuntimeError(f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{self._log()}")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A PostgreSQL URL for the session: an existing server if configured, else a throwaway one."""
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        configured = os.environ.get(name, "")
        if configured.startswith(("postgres://", "postgresql")):
            yield configured
            return
    bindir = _postgresql_bindir()
    if bindir is None:
        reason = ("no PostgreSQL binaries (initdb, pg_ctl, postgres) in PATH or /usr/lib/postgresql/*/bin: "
                  "install Debian's postgresql package (.ci/run does) or set TEST_DATABASE_URL")
        if os.environ.get("REQUIRE_POSTGRESQL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    server = _TemporaryPostgreSQL(bindir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own: a SQLite file, or a fresh PostgreSQL schema on the search path."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
        return
    server = normalise_database_url(request.getfixturevalue("postgresql_url"))
    schema = f"test_{secrets.token_hex(6)}"
    admin = create_engine(server)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        options = " ".join(filter(None, [server.query.get("options"), f"-csearch_path={schema}"]))
        yield server.update_query_dict({"options": options}).render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture()
def open_store(database_url: str) -> Iterator[Callable[[], FeedbackStore]]:
    """Opens stores on the test's database (as a restarted process would); closes them all afterwards."""
    opened: list[FeedbackStore] = []

    def open_() -> FeedbackStore:
        opened.append(FeedbackStore(database_url))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


@pytest.fixture()
def store(open_store: Callable[[], FeedbackStore]) -> FeedbackStore:
    return open_store()


def issue(store: FeedbackStore, uuid: str, *suggestions: str, service: str = SERVICE,
          rule: str = "LDN-OPI-001") -> IssuedCard:
    card = IssuedCard(uuid=uuid, service_id=service, rule_id=rule, rule_version="1.0.0",
                      hook_instance="d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", suggestion_ids=suggestions,
                      issued_at=datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc))
    store.record_cards([card])
    store.flush()  # as the write-behind thread does within WRITE_BEHIND_SECONDS
    return card


def body(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"feedback": list(entries)}


def accepted(card: str, *suggestions: str, at: str = "2026-11-23T09:05:00Z") -> dict[str, Any]:
    return {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": s} for s in suggestions],
            "outcomeTimestamp": at}


def overridden(card: str, at: str = "2026-11-23T09:05:00Z", **reason: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"card": card, "outcome": "overridden", "outcomeTimestamp": at}
    if reason:
        entry["overrideReason"] = reason
    return entry


# --- accepted and overridden ----------------------------------------------------------------------


def test_accepted_with_suggestions(store: FeedbackStore) -> None:
    issue(store, "card-1", "s-replace", "s-delete", "s-lab")
    stored = store.record_feedback(SERVICE, body(accepted("card-1", "s-delete", "s-replace")))
    expected = FeedbackEntry(card="card-1", outcome="accepted",
                             outcome_timestamp=datetime(2026, 11, 23, 9, 5, tzinfo=timezone.utc),
                             accepted_suggestions=("s-delete", "s-replace"), override_code=None,
                             override_system=None, override_display=None, user_comment=None)
    assert stored == [expected]
    assert store.feedback_for("card-1") == [expected]


def test_overridden_with_reason(store: FeedbackStore) -> None:
    issue(store, "card-1")
    reason = {"code": "patient-aware", "system": REASONS, "display": "Patient aware of the risk"}
    [entry] = store.record_feedback(SERVICE, body(overridden("card-1", reason=reason, userComment="Discussed")))
    assert (entry.outcome, entry.override_code, entry.override_system, entry.override_display, entry.user_comment) \
        == ("overridden", "patient-aware", REASONS, "Patient aware of the risk", "Discussed")
    assert entry.accepted_suggestions == ()


def test_overridden_with_the_older_override_reason_shape(store: FeedbackStore) -> None:
    """Older clients send the Coding itself as overrideReason: stored as the same Coding."""
    issue(store, "card-1")
    issue(store, "card-2")
    [older] = store.record_feedback(SERVICE, body(overridden("card-1", code="patient-aware", system=REASONS,
                                                             userComment="Discussed")))
    [current] = store.record_feedback(SERVICE, body(overridden(
        "card-2", reason={"code": "patient-aware", "system": REASONS}, userComment="Discussed")))
    assert older.override_code == current.override_code == "patient-aware"
    assert older.override_system == current.override_system == REASONS
    assert older.user_comment == current.user_comment == "Discussed"
    assert older.override_display is None


def test_overridden_with_a_comment_only_or_no_reason(store: FeedbackStore) -> None:
    issue(store, "card-1")
    issue(store, "card-2")
    [commented, bare] = store.record_feedback(SERVICE, body(overridden("card-1", userComment="Already tapering"),
                                                            overridden("card-2")))
    assert (commented.override_code, commented.user_comment) == (None, "Already tapering")
    assert (bare.override_code, bare.user_comment) == (None, None)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_specification_examples(store: FeedbackStore, name: str) -> None:
    example = EXAMPLES[name]
    [entry] = example["feedback"]
    issue(store, entry["card"], *(s["id"] for s in entry.get("acceptedSuggestions", [])))
    [stored] = store.record_feedback(SERVICE, example)
    assert stored.card == entry["card"]
    assert stored.outcome == entry["outcome"]
    assert stored.outcome_timestamp == datetime.fromisoformat(entry["outcomeTimestamp"])
    assert stored.accepted_suggestions == tuple(s["id"] for s in entry.get("acceptedSuggestions", []))
    reason = entry.get("overrideReason", {})
    assert stored.override_code == reason.get("reason", {}).get("code")
    assert stored.user_comment == reason.get("userComment")


def test_the_examples_are_the_published_ones() -> None:
    if not SPEC_EXAMPLES.is_dir():
        pytest.skip(f"{SPEC_EXAMPLES} is not present")
    for name, example in EXAMPLES.items():
        assert json.loads((SPEC_EXAMPLES / name).read_text()) == example, name


def test_tolerant_of_extensions_urn_prefixes_offsets_and_lowercase(store: FeedbackStore) -> None:
    issue(store, "4e0a3a1e-3283-4575-ab82-028d55fe2719", "e56e1945-20b3-4393-8503-a1a20fd73152")
    entry = {"card": "urn:uuid:4e0a3a1e-3283-4575-ab82-028d55fe2719", "outcome": "accepted",
             "acceptedSuggestions": [{"id": "urn:uuid:e56e1945-20b3-4393-8503-a1a20fd73152", "label": "Stop"}],
             "outcomeTimestamp": "2026-11-23t14:35:00.250+05:30", "extension": {"org.example.seen": True}}
    [stored] = store.record_feedback(SERVICE, {"feedback": [entry], "extension": {}})
    assert stored.card == "4e0a3a1e-3283-4575-ab82-028d55fe2719"
    assert stored.accepted_suggestions == ("e56e1945-20b3-4393-8503-a1a20fd73152",)
    assert stored.outcome_timestamp == datetime(2026, 11, 23, 9, 5, 0, 250000, tzinfo=timezone.utc)


def test_a_timestamp_without_zone_is_utc(store: FeedbackStore) -> None:
    issue(store, "card-1")
    [stored] = store.record_feedback(SERVICE, body(overridden("card-1", at="2026-11-23T09:05:00")))
    assert stored.outcome_timestamp == datetime(2026, 11, 23, 9, 5, tzinfo=timezone.utc)


# --- refused --------------------------------------------------------------------------------------


def test_unknown_card(store: FeedbackStore) -> None:
    issue(store, "card-1")
    with pytest.raises(UnknownCard) as raised:
        store.record_feedback(SERVICE, body(overridden("card-1"), overridden("card-404")))
    assert raised.value.card == "card-404"
    assert raised.value.errors == {"feedback[1].card": ["No card 'card-404' was issued by service "
                                                        "'ldn-order-sign-v1'."]}
    assert isinstance(raised.value, InputError)  # a 4xx problem even where the view does not catch it
    assert store.feedback_for("card-1") == []  # all or nothing


def test_a_card_issued_by_another_service_is_unknown_here(store: FeedbackStore) -> None:
    issue(store, "card-1", service=OTHER_SERVICE)
    with pytest.raises(UnknownCard) as raised:
        store.record_feedback(SERVICE, body(overridden("card-1")))
    assert raised.value.card == "card-1"
    assert store.record_feedback(OTHER_SERVICE, body(overridden("card-1")))


def test_a_suggestion_that_is_not_on_the_card(store: FeedbackStore) -> None:
    issue(store, "card-1", "s-1")
    issue(store, "card-2", "s-2")
    with pytest.raises(InvalidFeedback) as raised:
        store.record_feedback(SERVICE, body(accepted("card-1", "s-1", "s-2")))
    assert raised.value.errors == {"feedback[0].acceptedSuggestions[1].id": ["Card 'card-1' has no suggestion 's-2'."]}
    assert store.feedback_for("card-1") == []


VALID = {"card": "card-1", "outcome": "overridden", "outcomeTimestamp": "2026-11-23T09:05:00Z"}


INVALID = [
    ([], "body", "Invalid input type."),
    ({}, "feedback", "Missing data for required field."),
    ({"feedback": {}}, "feedback", "Invalid type."),
    ({"feedback": []}, "feedback", "Length must be between 1 and 500."),
    ({"feedback": ["card-1"]}, "feedback[0]", "Invalid input type."),
    (body({**VALID, "outcome": "rejected"}), "feedback[0].outcome", "Must be one of: accepted, overridden."),
    (body({**VALID, "outcome": None}), "feedback[0].outcome", "Field may not be null."),
    (body({k: v for k, v in VALID.items() if k != "card"}), "feedback[0].card", "Missing data for required field."),
    (body({**VALID, "card": 42}), "feedback[0].card", "Not a valid string."),
    (body({**VALID, "card": ""}), "feedback[0].card", "Length must be between 1 and 200."),
    (body({k: v for k, v in VALID.items() if k != "outcomeTimestamp"}), "feedback[0].outcomeTimestamp",
     "Missing data for required field."),
    (body({**VALID, "outcomeTimestamp": "2026-11-23"}), "feedback[0].outcomeTimestamp",
     "Not a valid ISO 8601 date-time (for example 2021-12-11T10:05:31Z)."),
    (body({**VALID, "outcomeTimestamp": "yesterday at noon"}), "feedback[0].outcomeTimestamp",
     "Not a valid ISO 8601 date-time (for example 2021-12-11T10:05:31Z)."),
    (body({**VALID, "outcomeTimestamp": 1764000000}), "feedback[0].outcomeTimestamp",
     "Not a valid ISO 8601 date-time (for example 2021-12-11T10:05:31Z)."),
    (body({**VALID, "outcomeTimestamp": "2026-02-30T09:00:00Z"}), "feedback[0].outcomeTimestamp",
     "Not a valid ISO 8601 date-time (for example 2021-12-11T10:05:31Z)."),
    (body({**VALID, "outcome": "accepted"}), "feedback[0].acceptedSuggestions",
     "Required when outcome is accepted: the ids of the accepted suggestions."),
    (body({**VALID, "outcome": "accepted", "acceptedSuggestions": []}), "feedback[0].acceptedSuggestions",
     "Required when outcome is accepted: the ids of the accepted suggestions."),
    (body({**VALID, "acceptedSuggestions": [{"id": "s-1"}]}), "feedback[0].acceptedSuggestions",
     "Only with outcome accepted."),
    (body({**VALID, "acceptedSuggestions": "s-1"}), "feedback[0].acceptedSuggestions", "Invalid type."),
    (body({**VALID, "outcome": "accepted", "acceptedSuggestions": [{"uuid": "s-1"}]}),
     "feedback[0].acceptedSuggestions[0].id", "Missing data for required field."),
    (body({**VALID, "outcome": "accepted", "acceptedSuggestions": [{"id": "s-1"}],
           "overrideReason": {"userComment": "no"}}), "feedback[0].overrideReason", "Only with outcome overridden."),
    (body({**VALID, "overrideReason": "patient-aware"}), "feedback[0].overrideReason", "Invalid input type."),
    (body({**VALID, "overrideReason": {"reason": {"code": "patient-aware"}}}),
     "feedback[0].overrideReason.reason.system", "Missing data for required field."),
    (body({**VALID, "overrideReason": {"reason": {"code": 7, "system": REASONS}}}),
     "feedback[0].overrideReason.reason.code", "Not a valid string."),
    (body({**VALID, "overrideReason": {"code": "patient-aware"}}), "feedback[0].overrideReason.system",
     "Missing data for required field."),
    (body({**VALID, "overrideReason": {"reason": {"code": "a", "system": REASONS}, "code": "b", "system": REASONS}}),
     "feedback[0].overrideReason.reason",
     "Give the Coding as reason {code, system}, or (older shape) code and system directly, not both."),
    (body({**VALID, "overrideReason": {"userComment": ["no"]}}), "feedback[0].overrideReason.userComment",
     "Not a valid string."),
]


@pytest.mark.parametrize(("sent", "path", "reason"), INVALID, ids=[f"{n}:{case[1]}" for n, case in enumerate(INVALID)])
def test_invalid_feedback_names_the_field(store: FeedbackStore, sent: Any, path: str, reason: str) -> None:
    issue(store, "card-1", "s-1")
    with pytest.raises(InvalidFeedback) as raised:
        store.record_feedback(SERVICE, sent)
    assert raised.value.errors.get(path) == [reason], raised.value.errors
    assert isinstance(raised.value, InputError)
    assert store.feedback_for("card-1") == []


def test_the_first_of_several_bad_entries_does_not_hide_the_others(store: FeedbackStore) -> None:
    with pytest.raises(InvalidFeedback) as raised:
        store.record_feedback(SERVICE, body({**VALID, "outcome": "seen"}, {**VALID, "outcomeTimestamp": "soon"}))
    assert set(raised.value.errors) == {"feedback[0].outcome", "feedback[1].outcomeTimestamp"}


# --- idempotent, concurrent, durable --------------------------------------------------------------


def test_the_same_feedback_posted_twice_is_stored_once(store: FeedbackStore) -> None:
    issue(store, "card-1", "s-1", "s-2")
    issue(store, "card-2")
    first = store.record_feedback(SERVICE, body(accepted("card-1", "s-1", "s-2")))
    again = store.record_feedback(SERVICE, body(accepted("card-1", "s-2", "s-1"),  # same set, other order
                                                accepted("card-1", "s-1", "s-2", at="2026-11-23T10:05:00+01:00")))
    assert again == first  # 10:05+01:00 is the same instant; one stored entry, as first stored
    reason = {"reason": {"code": "patient-aware", "system": REASONS}, "userComment": "Discussed"}
    older = {"code": "patient-aware", "system": REASONS, "userComment": "Discussed"}
    assert store.record_feedback(SERVICE, body(overridden("card-2", **reason))) \
        == store.record_feedback(SERVICE, body(overridden("card-2", **older)))
    assert len(store.feedback_for("card-1")) == 1
    assert len(store.feedback_for("card-2")) == 1


def test_different_feedback_on_the_same_card_is_kept(store: FeedbackStore) -> None:
    issue(store, "card-1", "s-1")
    store.record_feedback(SERVICE, body(overridden("card-1", at="2026-11-23T09:05:00Z")))
    store.record_feedback(SERVICE, body(overridden("card-1", at="2026-11-23T09:06:00Z")))
    store.record_feedback(SERVICE, body(overridden("card-1", at="2026-11-23T09:06:00Z", userComment="Tapering")))
    store.record_feedback(SERVICE, body(accepted("card-1", "s-1", at="2026-11-23T09:01:00Z")))
    assert [(e.outcome, e.outcome_timestamp.minute, e.user_comment) for e in store.feedback_for("card-1")] == [
        ("accepted", 1, None), ("overridden", 5, None), ("overridden", 6, None), ("overridden", 6, "Tapering")]


def test_concurrent_posts_of_the_same_feedback_store_it_once(open_store: Callable[[], FeedbackStore]) -> None:
    setup = open_store()
    issue(setup, "card-1", "s-1")
    workers = [open_store() for _ in range(4)]  # as separate worker processes would
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def post(store: FeedbackStore) -> None:
        try:
            barrier.wait()
            store.record_feedback(SERVICE, body(accepted("card-1", "s-1")))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=post, args=(workers[n % 4],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(setup.feedback_for("card-1")) == 1


def test_issued_cards_are_written_behind_the_response(open_store: Callable[[], FeedbackStore]) -> None:
    # record_cards does not wait for a commit; the writer thread writes within moments, and
    # another worker (store) then accepts feedback on the card
    issuing, other = open_store(), open_store()
    card = IssuedCard(uuid="card-wb", service_id=SERVICE, rule_id="LDN-OPI-001", rule_version="1.0.0",
                      hook_instance="h", suggestion_ids=("s-1",), issued_at=datetime(2026, 11, 23, tzinfo=timezone.utc))
    issuing.record_cards([card])
    deadline = time.monotonic() + 5
    while True:
        try:
            other.record_feedback(SERVICE, body(accepted("card-wb", "s-1")))
            break
        except UnknownCard:
            assert time.monotonic() < deadline, "the card was not written behind within 5 s"
            time.sleep(0.01)
    assert len(other.feedback_for("card-wb")) == 1


def test_cards_waiting_to_be_written_are_written_at_close(open_store: Callable[[], FeedbackStore]) -> None:
    issuing = open_store()
    card = IssuedCard(uuid="card-close", service_id=SERVICE, rule_id="LDN-OPI-001", rule_version="1.0.0",
                      hook_instance="h", suggestion_ids=(), issued_at=datetime(2026, 11, 23, tzinfo=timezone.utc))
    issuing.record_cards([card])
    issuing.close()
    assert open_store().summary()["cardsIssued"] >= 1


def test_feedback_survives_a_restart(open_store: Callable[[], FeedbackStore]) -> None:
    first = open_store()
    issue(first, "card-1", "s-1")
    stored = first.record_feedback(SERVICE, body(accepted("card-1", "s-1")))
    first.close()
    with pytest.raises(RuntimeError):
        first.feedback_for("card-1")
    restarted = open_store()
    assert restarted.feedback_for("card-1") == stored
    assert restarted.record_feedback(SERVICE, body(accepted("card-1", "s-1"))) == stored  # still known, still once
    assert restarted.summary()["feedbackEntries"] == 1


def test_a_database_of_another_schema_version_is_refused(open_store: Callable[[], FeedbackStore],
                                                         database_url: str) -> None:
    open_store().close()
    engine = create_engine(normalise_database_url(database_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE cds_hooks_meta SET value = '99' WHERE key = 'schema_version'"))
    engine.dispose()
    with pytest.raises(ConfigurationError, match="schema version 99"):
        open_store()


def test_a_forked_worker_opens_its_own_connections(store: FeedbackStore) -> None:
    issue(store, "card-1")
    store._engine.dispose()  # noqa: SLF001 - (a real fork leaves the parent's connections to the parent)
    store._pid = -1  # noqa: SLF001 - as if this process were a fork of the one that opened the store
    assert store.summary()["cardsIssued"] == 1
    assert store._pid == os.getpid()  # noqa: SLF001


def test_recording_a_card_twice_keeps_the_first(store: FeedbackStore) -> None:
    card = issue(store, "card-1", "s-1")
    store.record_cards([card, card])
    store.record_cards([])
    assert store.summary()["cardsIssued"] == 1


# --- reporting ------------------------------------------------------------------------------------


def test_summary_counts_per_rule_and_outcome(store: FeedbackStore) -> None:
    for n in range(3):
        issue(store, f"opi-{n}", f"opi-{n}-s", rule="LDN-OPI-001")
    issue(store, "dose-1", rule="LDN-DOSE-002")
    issue(store, "tit-1", rule="LDN-TIT-001")
    aware = {"reason": {"code": "patient-aware", "system": REASONS}}
    store.record_feedback(SERVICE, body(
        accepted("opi-0", "opi-0-s"),
        overridden("opi-1", **aware),
        overridden("opi-1", at="2026-11-23T09:30:00Z", **aware),  # the same card overridden again
        overridden("opi-2", reason={"code": "not-applicable", "system": REASONS}),
        overridden("dose-1", userComment="Compounded as written"),
    ))
    assert store.summary() == {
        "schemaVersion": 1,
        "cardsIssued": 5,
        "feedbackEntries": 5,
        "rules": {
            "LDN-DOSE-002": {"cardsIssued": 1, "accepted": 0, "overridden": 1, "feedbackEntries": 1,
                             "overrideReasons": []},
            "LDN-OPI-001": {"cardsIssued": 3, "accepted": 1, "overridden": 2, "feedbackEntries": 4,
                            "overrideReasons": [{"system": REASONS, "code": "patient-aware", "count": 2},
                                                {"system": REASONS, "code": "not-applicable", "count": 1}]},
            "LDN-TIT-001": {"cardsIssued": 1, "accepted": 0, "overridden": 0, "feedbackEntries": 0,
                            "overrideReasons": []},
        },
    }


def test_an_empty_summary(store: FeedbackStore) -> None:
    assert store.summary() == {"schemaVersion": 1, "cardsIssued": 0, "feedbackEntries": 0, "rules": {}}


# --- configuration --------------------------------------------------------------------------------


def test_store_from_config_uses_database_url(database_url: str, tmp_path: Path) -> None:
    with store_from_config({"DATABASE_URL": database_url}, str(tmp_path / "instance")) as store:
        issue(store, "card-1")
        assert store.summary()["cardsIssued"] == 1
    assert not (tmp_path / "instance").exists()


def test_store_from_config_defaults_to_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    for config in ({}, {"DATABASE_URL": ""}):
        with store_from_config(config, str(instance)) as store:
            issue(store, "card-1")
    assert (instance / "feedback.sqlite3").is_file()
    with FeedbackStore(f"sqlite:///{instance / 'feedback.sqlite3'}") as store:
        assert store.summary()["cardsIssued"] == 1


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with FeedbackStore(f"sqlite:///{tmp_path / 'f.sqlite3'}") as store:
        with store._engine.connect() as conn:  # noqa: SLF001 - the pragmas are the point
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_postgresql_urls_mean_psycopg_3() -> None:
    assert normalise_database_url("postgres://u:p@db/cds").drivername == "postgresql+psycopg"
    assert normalise_database_url("postgresql://u:p@db/cds").drivername == "postgresql+psycopg"
    assert normalise_database_url("sqlite:////tmp/f.sqlite3").drivername == "sqlite"
    with pytest.raises(ConfigurationError, match="not a database URL"):
        normalise_database_url("feedback.sqlite3")
    with pytest.raises(ConfigurationError, match="SQLite or PostgreSQL"):
        FeedbackStore("mysql+pymysql://u:p@db/cds")


def test_the_store_never_shows_a_password(database_url: str) -> None:
    with FeedbackStore(database_url) as store:
        password = normalise_database_url(database_url).password
        assert not password or str(password) not in repr(store)


def test_issued_at_and_timestamps_are_utc(store: FeedbackStore) -> None:
    store.record_cards([IssuedCard(uuid="card-1", service_id=SERVICE, rule_id="LDN-OPI-001", rule_version="1.0.0",
                                   hook_instance=None, suggestion_ids=(),
                                   issued_at=datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=1))))])
    [entry] = store.record_feedback(SERVICE, body(overridden("card-1", at="2026-11-23T04:05:00-05:00")))
    assert entry.outcome_timestamp == datetime(2026, 11, 23, 9, 5, tzinfo=timezone.utc)
    assert entry.outcome_timestamp.tzinfo == timezone.utc


def test_token_ids_are_shared_between_processes_and_forgotten_after_expiry(
        open_store: Callable[[], FeedbackStore]) -> None:
    first, second = open_store().token_ids, open_store().token_ids  # two workers, one database
    later = int(time.time()) + 300
    assert first.seen_before("https://ehr.example.org", "jti-1", later) is False
    assert second.seen_before("https://ehr.example.org", "jti-1", later) is True
    assert second.seen_before("https://other.example.org", "jti-1", later) is False  # per issuer
    expired = int(time.time()) - 120
    assert first.seen_before("https://ehr.example.org", "jti-old", expired) is False
    assert second.seen_before("https://ehr.example.org", "jti-fresh", later) is False  # purges jti-old
    assert first.seen_before("https://ehr.example.org", "jti-old", expired) is False


def test_workers_booting_together_on_a_new_sqlite_file_all_start(tmp_path: Path) -> None:
    # gunicorn starts its workers at once; a new file's switch to WAL answered "database is locked"
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    stores: list[FeedbackStore] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(6)

    def boot() -> None:
        try:
            barrier.wait()
            stores.append(FeedbackStore(url))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=boot) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and len(stores) == 6
    for store in stores:
        store.close()
