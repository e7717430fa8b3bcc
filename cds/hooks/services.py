"""The CDS Services this product offers, as discovery describes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..terminology import Terminology

VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    prefetch: dict[str, str] = field(default_factory=dict)
    pack: str = "ldn"  # which rules answer: "ldn" (rules/*.yaml) or "opioid-safety" (rules/opioid-safety)

    def discovery(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
            "usageRequirements": (
                "Send the prefetch, or fhirServer with fhirAuthorization so that the service can read what "
                "is missing. Sign requests with a JWT from an issuer the site has trusted (see README)."),
        }


def prefetch_templates(terminology: Terminology) -> dict[str, str]:
    """What the rules read: the patient, medications, conditions and the LOINC codes they test."""
    loinc = sorted(terminology.loinc_codes())
    patient = "{{context.patientId}}"
    return {
        "patient": f"Patient/{patient}",
        "medicationRequests": f"MedicationRequest?patient={patient}&status=active,on-hold,completed,stopped",
        "medicationStatements": f"MedicationStatement?patient={patient}",
        "conditions": f"Condition?patient={patient}",
        "labs": f"Observation?patient={patient}&code=" + ",".join(f"http://loinc.org|{c}" for c in loinc),
    }


def opioid_safety_prefetch() -> dict[str, str]:
    """What CDC Recommendation 11 reads: active community prescriptions (with their Medication
    resources), conditions and encounters."""
    patient = "{{context.patientId}}"
    return {
        "patient": f"Patient/{patient}",
        "medicationRequests": f"MedicationRequest?patient={patient}&status=active&_include=MedicationRequest:medication",
        "conditions": f"Condition?patient={patient}",
        "encounters": f"Encounter?patient={patient}",
    }


def services(terminology: Terminology) -> tuple[Service, ...]:
    prefetch = prefetch_templates(terminology)
    return (
        Service(
            id=f"ldn-order-select-{VERSION}",
            hook="order-select",
            title="Naltrexone (LDN/ULDN) order check",
            description=("As a naltrexone order is selected: opioid conflicts and opioid-free intervals, mg vs µg "
                         "errors, duplicate antagonists, pregnancy, liver, kidney, transplant and interactions; "
                         "and opioid or antagonist orders for a patient on naltrexone."),
            prefetch=prefetch,
        ),
        Service(
            id=f"ldn-order-sign-{VERSION}",
            hook="order-sign",
            title="Naltrexone (LDN/ULDN) check before signing",
            description=("Before naltrexone orders (or opioid orders for a patient on naltrexone) are signed: the "
                         "same checks as order-select, with suggestions to cancel a duplicate, correct a unit "
                         "or order baseline tests."),
            prefetch=prefetch,
        ),
        Service(
            id=f"ldn-patient-view-{VERSION}",
            hook="patient-view",
            title="Review of a patient on naltrexone (LDN/ULDN)",
            description=("When the chart of a patient taking naltrexone is opened: each current naltrexone "
                         "prescription is reviewed against the medication list, conditions and labs (opioids, "
                         "duplicates, mg vs µg, pregnancy, liver, kidney, transplant, interactions)."),
            prefetch=prefetch,
        ),
        Service(
            id=f"opioid-safety-rec11-patient-view-{VERSION}",
            hook="patient-view",
            title="Opioids with benzodiazepines or other CNS depressants (CDC 2022 Recommendation 11)",
            description=("When a chart is opened: an adult with active community prescriptions for an opioid pain "
                         "medicine and a benzodiazepine or other CNS depressant, unless sickle cell disease, active "
                         "cancer treatment, a likely terminal condition or end of life applies (the CDC opioid CDS "
                         "implementation guide's logic)."),
            prefetch=opioid_safety_prefetch(),
            pack="opioid-safety",
        ),
    )
