# The same rules, reached the way an EHR reaches them: CDS Hooks 2.0 with FHIR R4.
#
# In these scenarios the patient is sent as FHIR resources (Patient, MedicationRequest, Condition,
# Observation) in the prefetch, and the naltrexone order as a draft MedicationRequest in an
# order-sign request; the answer is a set of cards. A card names its rule, so the same sentences
# as in the other feature files check it. patient-view reviews a patient already on naltrexone.

@cds-hooks
Feature: Naltrexone checks through CDS Hooks
  An EHR signing a naltrexone order, or opening the chart of a patient on naltrexone, gets the
  same alerts as a pharmacist using the JSON API, as cards it can show and act on.

  Background:
    Given the evaluation date is 2026-11-23
    And a 52-year-old male patient

  @opioid-conflict
  Scenario: Signing LDN for a patient taking Percocet raises a critical card
    Given the medication list is:
      | medication               | status |
      | Percocet 5/325 1 q6h prn | active |
    When the EHR signs the order "LDN 4.5 mg at bedtime" through CDS Hooks
    Then alert LDN-OPI-001 is raised with severity critical
    And alert LDN-OPI-006 is not raised

  @opioid-conflict
  Scenario: Signing ULDN for a patient taking oxycodone is information, not a conflict
    Given the medication list is:
      | medication                   | status |
      | oxycodone 5 mg every 6 hours | active |
    When the EHR signs the order "ULDN 1 mcg twice daily" through CDS Hooks
    Then alert LDN-OPI-006 is raised with severity info
    And alert LDN-OPI-001 is not raised

  @opioid-washout
  Scenario: Tramadol stopped three days before the order
    Given the medication list is:
      | medication        | status  | stopped on |
      | tramadol 50mg bid | stopped | 2026-11-20 |
    When the EHR signs the order "LDN 1.5 mg at bedtime" through CDS Hooks
    Then alert LDN-WASH-001 is raised with severity warning

  @dose
  Scenario: A ULDN order written in milligrams
    When the EHR signs the order "ULDN 1 mg twice daily" through CDS Hooks
    Then alert LDN-DOSE-001 is raised with severity critical

  @duplicate-antagonist
  Scenario: Signing LDN for a patient on Contrave offers to cancel the order
    Given the medication list is:
      | medication                | status |
      | Contrave 8/90 2 tabs bid  | active |
    When the EHR signs the order "LDN 1.5 mg at bedtime" through CDS Hooks
    Then alert LDN-DUP-001 is raised with severity critical
    And the card for LDN-DUP-001 offers to "Cancel this naltrexone order"

  @pregnancy
  Scenario: Pregnancy status not documented for a woman of 34
    Given a 34-year-old female patient
    When the EHR signs the order "LDN 1.5 mg at bedtime" through CDS Hooks
    Then alert LDN-PREG-002 is raised with severity info
    And the card for LDN-PREG-002 offers to "Order a pregnancy test"

  @renal
  Scenario: A recent eGFR of 24
    Given the lab results are:
      | test | LOINC   | value | unit          | taken      |
      | eGFR | 98979-8 | 24    | mL/min/1.73m2 | 2026-11-01 |
    When the EHR signs the order "LDN 1.5 mg at bedtime" through CDS Hooks
    Then alert LDN-REN-001 is raised with severity warning

  @immunosuppression
  Scenario: A kidney transplant recipient
    Given the problem list is:
      | ICD-10 | condition                       | status |
      | Z94.0  | Kidney transplant status        | active |
    When the EHR signs the order "LDN 1.5 mg at bedtime" through CDS Hooks
    Then alert LDN-IMM-001 is raised with severity warning

  @data-quality
  Scenario: A medicine the service does not know
    Given the medication list is:
      | medication          | status |
      | Zorblax 5 mg daily  | active |
    When the EHR signs the order "LDN 1.5 mg at bedtime" through CDS Hooks
    Then alert LDN-DQ-001 is raised with severity warning

  @opioid-conflict
  Scenario: Opening the chart of a patient on LDN who has been given morphine
    Given the medication list is:
      | medication               | status |
      | LDN 4.5 mg at bedtime    | active |
      | morphine 15 mg every 12 hours | active |
    When the EHR opens the patient's chart (CDS Hooks patient-view)
    Then alert LDN-OPI-001 is raised with severity critical
    And alert LDN-TIT-001 is not raised

  @opioid-conflict
  Scenario: Opening the chart of a patient on LDN with nothing to flag
    Given the medication list is:
      | medication            | status |
      | LDN 4.5 mg at bedtime | active |
      | metformin 500 mg bid  | active |
    When the EHR opens the patient's chart (CDS Hooks patient-view)
    Then no alert is raised
