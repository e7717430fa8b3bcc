# Kidney — rules/renal.yaml (LDN-REN-001 to LDN-REN-003)
#
# What the rules say, in plain words:
#   Naltrexone labelling gives creatinine clearance, not eGFR: no adjustment at CrCl 50–80 mL/min;
#   moderate and severe impairment were not studied, use with caution [label: naltrexone]. In
#   renal failure, start only after consulting the patient's GP or specialist and monitor during
#   initiation (seed:004). The eGFR cut-offs are design choices, kept as rule parameters:
#   below 30 mL/min/1.73m² is severe (warning), 30 to 59 moderate (information), 60 and above no
#   alert. CKD stage 4–5 (N18.4, N18.5), end-stage renal disease (N18.6) or dialysis (Z99.2) on
#   the problem list is a warning whatever the last eGFR. Only the latest eGFR counts; eGFR LOINC
#   codes: 98979-8 (CKD-EPI 2021), 62238-1, 33914-3 (MDRD), 50044-7, 48642-3.
#
#   LDN-REN-001  warning  naltrexone + latest eGFR below 30
#   LDN-REN-002  warning  naltrexone + CKD stage 4–5, ESRD or dialysis on the problem list
#   LDN-REN-003  info     naltrexone + latest eGFR 30 to 59

Feature: Kidney function before naltrexone
  Severe kidney impairment needs the nephrologist or GP consulted first; moderate impairment is
  noted so the pharmacist can advise a low start and monitoring.

  Background:
    Given the evaluation date is 2026-11-23
    And a 67-year-old male patient

  @renal
  Scenario Outline: eGFR bands (eGFR <eGFR> by <equation>)
    Given the lab results are:
      | test | LOINC   | value  | unit          | taken      |
      | eGFR | <LOINC> | <eGFR> | mL/min/1.73m2 | 2026-11-02 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-REN-001 is <severe>
    And alert LDN-REN-003 is <moderate>

    Examples:
      | LOINC   | equation     | eGFR | severe     | moderate   |
      | 98979-8 | CKD-EPI 2021 | 12   | raised     | not raised |
      | 98979-8 | CKD-EPI 2021 | 29   | raised     | not raised |
      | 98979-8 | CKD-EPI 2021 | 29.9 | raised     | not raised |
      | 98979-8 | CKD-EPI 2021 | 30   | not raised | raised     |
      | 62238-1 | CKD-EPI 2009 | 45   | not raised | raised     |
      | 98979-8 | CKD-EPI 2021 | 59   | not raised | raised     |
      | 98979-8 | CKD-EPI 2021 | 60   | not raised | not raised |
      | 33914-3 | MDRD         | 88   | not raised | not raised |

  @renal
  Scenario: Severe kidney impairment: consult before the first dose
    Given the lab results are:
      | test | LOINC   | value | unit          | taken      |
      | eGFR | 98979-8 | 24    | mL/min/1.73m2 | 2026-11-02 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-REN-001 is raised with severity warning
    And alert LDN-REN-001 mentions "eGFR 24 on 2026-11-02"
    And no other alert is raised

  @renal
  Scenario: Moderate kidney impairment: information only
    Given the lab results are:
      | test | LOINC   | value | unit             | taken      |
      | eGFR | 33914-3 | 42    | mL/min/{1.73_m2} | 2026-11-02 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-REN-003 is raised with severity info
    And no other alert is raised

  @renal
  Scenario: eGFR 60 or more: no kidney alert
    Given the lab results are:
      | test | LOINC   | value | unit          | taken      |
      | eGFR | 98979-8 | 60    | mL/min/1.73m2 | 2026-11-02 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then no renal alert is raised
    And no alert is raised

  @renal
  Scenario: Only the latest eGFR counts
    Given the lab results are:
      | test | LOINC   | value | unit          | taken      |
      | eGFR | 98979-8 | 25    | mL/min/1.73m2 | 2026-05-01 |
      | eGFR | 98979-8 | 65    | mL/min/1.73m2 | 2026-11-02 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-REN-001 is not raised
    And no renal alert is raised

  @renal
  Scenario Outline: Severe kidney disease on the problem list (<code>)
    Given the problem list is:
      | ICD-10 | condition   | status |
      | <code> | <condition> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-REN-002 is raised with severity warning
    And alert LDN-REN-002 mentions "<condition>"

    Examples:
      | code  | condition                                |
      | N18.4 | Chronic kidney disease, stage 4 (severe) |
      | N18.5 | Chronic kidney disease, stage 5          |
      | N18.6 | End stage renal disease                  |
      | Z99.2 | Dependence on renal dialysis             |

  @renal
  Scenario: Dialysis and a low eGFR: both alerts
    Given the problem list is:
      | ICD-10 | condition                    | status |
      | Z99.2  | Dependence on renal dialysis | active |
    And the lab results are:
      | test | LOINC   | value | unit          | taken      |
      | eGFR | 98979-8 | 8     | mL/min/1.73m2 | 2026-11-02 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-REN-002 is raised with severity warning
    And alert LDN-REN-001 is raised with severity warning
    And no other alert is raised

  @renal
  Scenario Outline: CKD stage 3 is moderate, not severe (<code>)
    Given the problem list is:
      | ICD-10 | condition   | status |
      | <code> | <condition> | active |
    And the lab results are:
      | test | LOINC   | value | unit          | taken      |
      | eGFR | 98979-8 | 41    | mL/min/1.73m2 | 2026-11-02 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-REN-002 is not raised
    And alert LDN-REN-003 is raised with severity info

    Examples:
      | code   | condition                                   |
      | N18.30 | Chronic kidney disease, stage 3 unspecified |
      | N18.32 | Chronic kidney disease, stage 3b            |
