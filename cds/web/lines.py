"""The lines a pharmacist types, as evaluation-request entries.

A medication line is the drug as written ("Percocet 5/325 1 q6h prn"), optionally followed by what
happened to it: "; stopped 2026-11-18", "; stopped 5 days ago", "; stopped" (date not known),
"; started 2024-01-10", "; on hold". The event may also follow ", " or " - ", or be in brackets at
the end ("(stopped 3 days ago)"); "discontinued", "d/c" and "last dose" mean stopped, "held" on hold.
A line that still names a stop it could not read is an error, never an active medication. A condition line is an ICD-10 code ("K74.60"), a code and its
words ("K74.60 cirrhosis"), or words alone ("cirrhosis"), optionally followed by "; resolved".

Each function returns the entry, or raises `LineError` with the reason in words.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Any


class LineError(ValueError):
    """A line that cannot be turned into an entry; the message says what to write instead."""


# "; stopped ...", "; started ...", "; on hold" at the end of a line (repeatable: "; started X; stopped Y"),
# after ";", ",", " - " (or an en/em dash), or in brackets at the very end: "(stopped 3 days ago)".
_WORDS = r"stopped|discontinued|d/c|dc'd|started|on[ -]hold|held|last\s+dose"
_WHEN = r"(?:(?!\s[-–—]\s)[^;,()])*"
_EVENT = re.compile(rf"(?:(?:;|,|\s[-–—])\s*(?P<event>{_WORDS})(?![\w/])(?P<when>{_WHEN})"
                    rf"|\(\s*(?P<bracketed>{_WORDS})(?![\w/])(?P<bracketed_when>[^;,()]*)\))\s*$", re.IGNORECASE)
_STOPPED = {"stopped", "discontinued", "d/c", "dc'd", "last dose"}
_ON_HOLD = {"on-hold", "on hold", "held"}
# a stop left in the text after the events were read: the line says it was stopped, in a way not understood
_STOP_WORD = re.compile(r"(?<![\w/])(?:stopped|discontinued|d/c|dc'd|held|on[ -]hold|last\s+dose)(?![\w/])",
                        re.IGNORECASE)
HOW_TO_STOP = "write '; stopped 2026-11-18' or '; stopped 3 days ago' (or '; on hold') at the end of the line"
# full-width punctuation (Chinese and Japanese input methods) read as its ASCII form
_FULL_WIDTH = str.maketrans({"；": ";", "，": ",", "（": "(", "）": ")", "：": ":"})
_DAYS_AGO = re.compile(r"^(?P<count>\d{1,5})\s+(?P<unit>days?|weeks?)\s+ago$", re.IGNORECASE)
_DATE = re.compile(r"^(?:on\s+)?(?P<date>\d{4}-\d{2}-\d{2})$", re.IGNORECASE)
_RELATIVE = {"today": 0, "yesterday": 1}
HOW_TO_DATE = "a date (2026-11-18), 'N days ago', 'N weeks ago', 'today' or 'yesterday'"

# ICD-10(-CM): a letter, a digit, a digit or letter, then a dot and up to four more ("K74.60", "F11.20",
# "Z94.4", "C4A.0"), or the same without the dot ("K7460"). A line is coded when it is a code, a dotted code
# and words ("K74.60 cirrhosis"), or a code, a dash or colon and words ("Z94.4 - kidney transplant").
_CODE = r"[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?|[A-Z]\d\d[0-9A-Z]{1,4}"
# A three-character code and words ("I10 hypertension", "K74 cirrhosis") needs two digits after the letter, and
# a few words that look like codes are not ("B12 deficiency": vitamin B12; "T1D", "A1c" fail the two digits).
_CODED = (re.compile(rf"^(?P<code>{_CODE})$", re.IGNORECASE),
          re.compile(rf"^(?P<code>{_CODE})\s*[-:–]\s*(?P<text>.+)$", re.IGNORECASE),
          re.compile(r"^(?P<code>[A-Z]\d[0-9A-Z]\.[0-9A-Z]{1,4})\s+(?P<text>.+)$", re.IGNORECASE),
          re.compile(r"^(?!B12\b)(?P<code>[A-Z]\d\d)\s+(?P<text>[^\W\d_].*)$", re.IGNORECASE))
_RESOLVED = re.compile(r";\s*(?P<status>resolved|inactive|in remission|remission)\s*$", re.IGNORECASE)
_CONDITION_STATUS = {"resolved": "resolved", "inactive": "inactive", "in remission": "remission",
                     "remission": "remission"}


def clean(text: str) -> str:
    """A textarea's text without control characters (but newlines and tabs) and invisible format
    characters (zero-width spaces and joiners, bidirectional marks, byte-order marks)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(char for char in text if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf"))


def medication(line: str, today: date) -> dict[str, Any]:
    """'tramadol 50mg bid; stopped 5 days ago' → {"text": "tramadol 50mg bid", "status": "stopped", "end": "..."}."""
    text = clean(line).translate(_FULL_WIDTH).strip()
    entry: dict[str, Any] = {}
    while True:
        found = _EVENT.search(text)
        if found is None:
            break
        written = " ".join((found["event"] or found["bracketed"]).lower().split())
        event = written.replace(" ", "-")
        when = (found["when"] if found["event"] else found["bracketed_when"]).strip()
        text = text[:found.start()].rstrip()
        if event in _ON_HOLD or written in _ON_HOLD:
            if when:
                raise LineError(f"'; on hold' takes no date (found {when!r})")
            entry.setdefault("status", "on-hold")
        elif written in _STOPPED:
            entry["status"] = "stopped"
            if when:
                entry["end"] = _day(when, today, written).isoformat()
        else:  # started
            if not when:
                raise LineError(f"say when it was started: '; started' followed by {HOW_TO_DATE}")
            entry["start"] = _day(when, today, "started").isoformat()
    if not text:
        raise LineError("name the medication before the ';'")
    unread = _STOP_WORD.search(text)
    if unread:
        raise LineError(f"'{unread[0]}' was not understood: {HOW_TO_STOP}")
    return {"text": text, **entry}


def condition(line: str) -> dict[str, Any]:
    """'K74.60' → {"code": "K74.60"}; 'K74.60 cirrhosis' → code and text; 'cirrhosis' → {"text": ...}."""
    text = clean(line).translate(_FULL_WIDTH).strip()
    entry: dict[str, Any] = {}
    resolved = _RESOLVED.search(text)
    if resolved:
        entry["status"] = _CONDITION_STATUS[resolved["status"].lower()]
        text = text[:resolved.start()].rstrip()
    if not text:
        raise LineError("name the condition or give its ICD-10 code before the ';'")
    coded = next((found for found in (pattern.match(text) for pattern in _CODED) if found), None)
    if coded is None:
        return {"text": text, **entry}
    words = coded.groupdict().get("text")
    return {"code": coded["code"].upper(), **({"text": words.strip()} if words else {}), **entry}


def _day(written: str, today: date, what: str) -> date:
    lowered = written.strip().lower()
    if lowered in _RELATIVE:
        return today - timedelta(days=_RELATIVE[lowered])
    ago = _DAYS_AGO.match(lowered)
    if ago:
        days = int(ago["count"]) * (7 if ago["unit"].startswith("week") else 1)
        try:
            return today - timedelta(days=days)
        except OverflowError:
            raise LineError(f"'{what} {written.strip()}' is before the calendar starts") from None
    exact = _DATE.match(lowered)
    if exact:
        try:
            return date.fromisoformat(exact["date"])
        except ValueError:
            raise LineError(f"{exact['date']} is not a date on the calendar") from None
    raise LineError(f"'{what} {written.strip()}': write {HOW_TO_DATE} after '{what}'")
