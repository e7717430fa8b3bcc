"""Medication and condition lines as a pharmacist types them (cds/web/lines.py)."""

from __future__ import annotations

from datetime import date

import pytest

from cds.web.lines import LineError, condition, medication

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(("line", "entry"), [
    ("Percocet 5/325 1 q6h prn", {"text": "Percocet 5/325 1 q6h prn"}),
    ("  Narcan kit  ", {"text": "Narcan kit"}),
    ("tramadol 50mg bid; stopped 2026-11-18", {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-18"}),
    ("tramadol 50mg bid ; Stopped on 2026-11-18",
     {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-18"}),
    ("methadone 60 mg daily; stopped 5 days ago", {"text": "methadone 60 mg daily", "status": "stopped",
                                                   "end": "2026-11-18"}),
    ("oxycodone 5 mg q6h; stopped 2 weeks ago",
     {"text": "oxycodone 5 mg q6h", "status": "stopped", "end": "2026-11-09"}),
    ("oxycodone 5 mg q6h; stopped yesterday", {"text": "oxycodone 5 mg q6h", "status": "stopped", "end": "2026-11-22"}),
    ("oxycodone 5 mg q6h; stopped", {"text": "oxycodone 5 mg q6h", "status": "stopped"}),
    ("oxycodone 5 mg q6h; discontinued 1 day ago", {"text": "oxycodone 5 mg q6h", "status": "stopped",
                                                    "end": "2026-11-22"}),
    ("oxycodone 10 mg q6h; started 2023-01-10", {"text": "oxycodone 10 mg q6h", "start": "2023-01-10"}),
    ("oxycodone 10 mg q6h; started 2023-01-10; stopped today",
     {"text": "oxycodone 10 mg q6h", "start": "2023-01-10", "status": "stopped", "end": "2026-11-23"}),
    ("LDN 3 mg at bedtime; on hold", {"text": "LDN 3 mg at bedtime", "status": "on-hold"}),
    # a semicolon that is not a stop or a start is part of what was written
    ("Tylenol 500 mg; 2 tabs prn", {"text": "Tylenol 500 mg; 2 tabs prn"}),
])
def test_medication_lines(line: str, entry: dict) -> None:
    assert medication(line, TODAY) == entry


@pytest.mark.parametrize(("line", "reason"), [
    ("oxycodone; stopped last week", "write a date"),
    ("oxycodone; stopped 2026-02-30", "not a date on the calendar"),
    ("oxycodone; started", "say when it was started"),
    ("LDN; on hold since May", "takes no date"),
    ("; stopped", "name the medication"),
])
def test_medication_lines_that_cannot_be_read_say_what_to_write(line: str, reason: str) -> None:
    with pytest.raises(LineError, match=reason):
        medication(line, TODAY)


@pytest.mark.parametrize(("line", "entry"), [
    ("K74.60", {"code": "K74.60"}),
    ("k74.60", {"code": "K74.60"}),
    ("K7460", {"code": "K7460"}),
    ("F11", {"code": "F11"}),
    ("K74.60 cirrhosis of liver", {"code": "K74.60", "text": "cirrhosis of liver"}),
    ("Z94.0 - kidney transplant", {"code": "Z94.0", "text": "kidney transplant"}),
    ("N18: chronic kidney disease", {"code": "N18", "text": "chronic kidney disease"}),
    ("cirrhosis", {"text": "cirrhosis"}),
    ("T2DM", {"text": "T2DM"}),  # not a code: a code's second and third characters are digits when undotted
    ("B12 deficiency", {"text": "B12 deficiency"}),  # words after an undotted code need a dash or colon
    ("F11.20; in remission", {"code": "F11.20", "status": "remission"}),
    ("acute hepatitis; resolved", {"text": "acute hepatitis", "status": "resolved"}),
])
def test_condition_lines(line: str, entry: dict) -> None:
    assert condition(line) == entry


def test_a_condition_line_with_only_a_status_is_refused() -> None:
    with pytest.raises(LineError, match="name the condition"):
        condition("; resolved")


# ---- the review's findings: other ways of writing a stop, and stops that were not understood ------
@pytest.mark.parametrize(("line", "entry"), [
    ("tramadol 50mg bid - stopped 3 days ago", {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-20"}),
    ("tramadol 50mg bid – stopped 3 days ago", {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-20"}),
    ("tramadol 50mg bid, stopped 3 days ago", {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-20"}),
    ("tramadol 50mg bid (stopped 3 days ago)",
     {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-20"}),
    ("tramadol 50mg bid (Stopped)", {"text": "tramadol 50mg bid", "status": "stopped"}),
    ("tramadol 50mg bid; d/c 3 days ago", {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-20"}),
    ("tramadol 50mg bid; D/C", {"text": "tramadol 50mg bid", "status": "stopped"}),
    ("tramadol 50mg bid, discontinued 2026-11-01",
     {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-01"}),
    ("tramadol 50mg bid; last dose 3 days ago", {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-20"}),
    ("tramadol 50mg bid; held", {"text": "tramadol 50mg bid", "status": "on-hold"}),
    ("tramadol 50mg bid (on hold)", {"text": "tramadol 50mg bid", "status": "on-hold"}),
    ("tramadol 50mg bid；stopped 3 days ago", {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-20"}),
    ("oxycodone 10 mg q6h, started 2023-01-10 - stopped today",
     {"text": "oxycodone 10 mg q6h", "start": "2023-01-10", "status": "stopped", "end": "2026-11-23"}),
    # commas and dashes that are not events stay part of what was written
    ("Percocet 5/325, 1 tab q6h prn", {"text": "Percocet 5/325, 1 tab q6h prn"}),
    ("oxycodone 5 mg - 1 tab q6h", {"text": "oxycodone 5 mg - 1 tab q6h"}),
])
def test_other_ways_of_writing_a_stop(line: str, entry: dict) -> None:
    assert medication(line, TODAY) == entry


@pytest.mark.parametrize("line", [
    "tramadol 50mg bid stopped 3 days ago",
    "tramadol (stopped) 50 mg bid",
    "tramadol 50mg bid d/c",
    "tramadol 50mg bid held since Monday",
    "tramadol 50mg bid last dose Monday",
    "tramadol 50mg bid; discontinued; 2 tabs",
])
def test_a_stop_that_cannot_be_read_is_an_error_not_an_active_medication(line: str) -> None:
    with pytest.raises(LineError, match=r"write '; stopped 2026-11-18' or '; stopped 3 days ago'"):
        medication(line, TODAY)


@pytest.mark.parametrize(("line", "entry"), [
    ("I10 hypertension", {"code": "I10", "text": "hypertension"}),
    ("K74 cirrhosis", {"code": "K74", "text": "cirrhosis"}),
    ("k74 cirrhosis of liver", {"code": "K74", "text": "cirrhosis of liver"}),
    ("T1D on insulin", {"text": "T1D on insulin"}),
    ("A1c 7.2", {"text": "A1c 7.2"}),
    ("B12 deficiency", {"text": "B12 deficiency"}),
])
def test_a_three_character_code_followed_by_words(line: str, entry: dict) -> None:
    assert condition(line) == entry
