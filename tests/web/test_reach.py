"""Done when a pharmacist can do every check of the rule catalogue from the page: one form per LDN
rule, posted as a browser would, raises that rule's card. (The opioid-safety pack, CDC-REC11-001,
reads FHIR records and is not part of the page's check; the page says so.)"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from cds.service import Evaluator

AS_OF = "2026-11-23"
LDN = "LDN 1.5 mg at bedtime"

# rule → the form fields that make it fire (every field is one the page has)
FORMS: dict[str, dict[str, str]] = {
    "LDN-OPI-001": {"order": "naltrexone 4.5 mg at bedtime", "medications": "Percocet 5/325 1 q6h prn"},
    "LDN-OPI-002": {"order": "oxycodone 5 mg every 6 hours", "medications": "LDN 4.5 mg at bedtime"},
    "LDN-OPI-003": {"order": LDN, "medications": "Robitussin AC 10 mL every 4 hours as needed"},
    "LDN-OPI-004": {"order": LDN, "medications": "loperamide 2 mg four times daily as needed"},
    "LDN-OPI-005": {"order": "naltrexone 0.1 mg daily", "order_purpose": "vldn",
                    "medications": "oxycodone 5 mg every 6 hours"},
    "LDN-OPI-006": {"order": "naltrexone 1 mcg twice daily", "order_purpose": "uldn",
                    "medications": "oxycodone 10 mg every 6 hours"},
    "LDN-OPI-007": {"order": LDN, "conditions": "F11.20"},
    "LDN-OPI-008": {"order": LDN, "urine_opioids": "positive", "urine_opioids_date": "2026-11-20"},
    "LDN-OPI-009": {"order": "oxycodone 5 mg every 6 hours",
                    "medications": "Vivitrol 380 mg IM every 4 weeks; stopped 10 days ago"},
    "LDN-WASH-001": {"order": LDN, "medications": "tramadol 50mg bid; stopped 2026-11-18"},
    "LDN-WASH-002": {"order": LDN, "medications": "methadone 60 mg daily; stopped 5 days ago"},
    "LDN-WASH-003": {"order": "oxycodone 5 mg every 6 hours",
                     "medications": "LDN 4.5 mg at bedtime; stopped 2026-11-13"},
    "LDN-WASH-004": {"order": LDN, "medications": "oxycodone 5 mg every 6 hours; stopped"},
    "LDN-DUP-001": {"order": LDN, "medications": "Vivitrol 380 mg IM every 4 weeks"},
    "LDN-DUP-002": {"order": "ReVia 50 mg once daily", "medications": "LDN 3 mg at bedtime"},
    "LDN-DUP-003": {"order": LDN, "medications": "naloxegol 25 mg daily"},
    "LDN-DUP-004": {"order": LDN, "medications": "Narcan kit"},
    "LDN-DUP-005": {"order": LDN, "medications": "LDN 3 mg at bedtime"},
    "LDN-DUP-006": {"order": "naloxegol 25 mg daily", "medications": "LDN 3 mg at bedtime"},
    "LDN-PREG-001": {"sex": "female", "age": "30", "pregnancy": "pregnant", "order": LDN},
    "LDN-PREG-002": {"sex": "female", "age": "30", "pregnancy": "unknown", "order": LDN},
    "LDN-LACT-001": {"sex": "female", "age": "30", "lactation": "lactating", "order": LDN},
    "LDN-HEP-001": {"order": LDN, "conditions": "K74.60"},
    "LDN-HEP-002": {"order": "ReVia 50 mg once daily", "conditions": "acute hepatitis"},
    "LDN-HEP-003": {"order": LDN, "alt": "150", "alt_date": "2026-11-10"},
    "LDN-HEP-004": {"order": "ReVia 50 mg once daily"},
    "LDN-REN-001": {"order": LDN, "egfr": "25", "egfr_date": "2026-11-13"},
    "LDN-REN-002": {"order": LDN, "conditions": "N18.5"},
    "LDN-REN-003": {"order": LDN, "egfr": "45", "egfr_date": "2026-11-13"},
    "LDN-IMM-001": {"order": LDN, "conditions": "Z94.0 kidney transplant"},
    "LDN-IMM-002": {"order": LDN, "medications": "tacrolimus 1 mg twice daily"},
    "LDN-IMM-003": {"order": "tacrolimus 1 mg twice daily", "medications": "LDN 3 mg at bedtime"},
    "LDN-INT-001": {"order": LDN, "medications": "thioridazine 50 mg daily"},
    "LDN-INT-002": {"order": LDN, "medications": "Antabuse 250 mg daily"},
    "LDN-INT-003": {"order": "thioridazine 50 mg daily", "medications": "LDN 3 mg at bedtime"},
    "LDN-INT-004": {"order": "Antabuse 250 mg daily", "medications": "LDN 3 mg at bedtime"},
    "LDN-DOSE-001": {"order": "naltrexone 1 mg twice daily", "order_purpose": "uldn"},
    "LDN-DOSE-002": {"order": "naltrexone 6 mg daily"},
    "LDN-DOSE-003": {"order": "naltrexone 400 mg daily"},
    "LDN-DOSE-004": {"order": "naltrexone 50 mg daily"},
    "LDN-TIT-001": {"order": "LDN 4.5 mg at bedtime"},
    "LDN-DQ-001": {"order": LDN, "medications": "Zorblax 10 mg daily"},
    "LDN-DQ-002": {"order": "LDN capsules as directed"},
    "LDN-DQ-003": {"order": LDN, "medications": "oxycodone 5 at bedtime"},
    "LDN-DQ-004": {"order": LDN, "egfr": "0.4", "egfr_unit": "mL/s/1.73m2", "egfr_date": "2026-11-10"},
    "LDN-DQ-005": {"sex": "female", "age": "30", "pregnancy": "not-pregnant", "order": LDN,
                   "hcg": "positive", "hcg_date": "2026-11-20"},
}


def _cards(html: str) -> list[str]:
    return re.findall(r'<article class="alert-card [^"]*" data-rule="([^"]+)"', html)


def test_every_ldn_rule_has_a_form(evaluator: Evaluator) -> None:
    assert set(FORMS) == {rule.id for rule in evaluator.rulebook.rules}


@pytest.mark.parametrize("rule", sorted(FORMS))
def test_the_page_can_raise(client: FlaskClient, rule: str) -> None:
    form = {"age": "45", "sex": "male", "as_of": AS_OF, **FORMS[rule]}
    response = client.post("/", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert rule in _cards(response.get_data(as_text=True))


def test_the_page_says_the_opioid_safety_pack_is_not_part_of_its_check(client: FlaskClient) -> None:
    assert "Recommendation 11" in client.get("/").get_data(as_text=True)
