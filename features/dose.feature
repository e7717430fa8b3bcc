# Dose, unit safety and titration — rules/dose.yaml (LDN-DOSE-001 to LDN-DOSE-004, LDN-TIT-001)
#
# What the rules say, in plain words:
#   Naltrexone doses come in bands (total daily dose; rules/terminology/dose-bands.yaml):
#   ULDN below 0.01 mg (micrograms: 1 µg twice daily, seed:004; Webster 2006), VLDN 0.01 to under
#   0.5 mg (Toljan & Vrooman 2018), LDN 0.5 to 4.5 mg (seed:001, seed:002, seed:004), above LDN up
#   to under 25 mg (unusual, design choice), standard 25 to 300 mg [label: naltrexone], and above
#   the labelled maximum of 300 mg. Only 50 mg tablets are commercial; LDN and ULDN are compounded.
#   Confusing mg with µg is a 1000-fold error [design]: an order that names its purpose (ULDN, LDN,
#   VLDN, standard — in its text or in the structured purpose field) but whose dose falls in
#   another band is critical. Above 4.5 mg and below 25 mg is flagged for review (often 45 for
#   4.5). Above 300 mg a day exceeds the label. A standard dose ordered as plain "naltrexone"
#   with no purpose and no product may have been meant as LDN: information.
#   Titration: "start low and go slow" (seed:000) — 1.5 mg at bedtime for 4 weeks, then up to
#   4.5 mg (seed:001); practice starts at 0.5–1.5 mg. A first LDN order above 1.5 mg a day for a
#   patient not already on naltrexone gets titration advice (information).
#
#   LDN-DOSE-001  critical  the dose is outside the band the order names (mg vs µg)
#   LDN-DOSE-002  warning   above 4.5 mg and below 25 mg a day
#   LDN-DOSE-003  critical  above 300 mg a day
#   LDN-DOSE-004  info      25–300 mg a day ordered without a purpose or product
#   LDN-TIT-001   info      a first LDN order above 1.5 mg a day

Feature: Naltrexone dose, units and titration
  The pharmacist must be stopped by a milligram/microgram mix-up and by doses outside the usual
  ranges, and reminded to start LDN low.

  Background:
    Given the evaluation date is 2026-11-23
    And a 44-year-old male patient

  @dose
  Scenario Outline: The dose must fit the purpose the order names (<order>)
    When naltrexone is ordered as "<order>"
    Then the order is read as "naltrexone <daily dose> a day"
    And alert LDN-DOSE-001 is <outcome>

    Examples:
      | order                  | daily dose | outcome    |
      | ULDN 1 mcg twice daily | 0.002 mg   | not raised |
      | ULDN 1 mg twice daily  | 2 mg       | raised     |
      | LDN 4.5 mg at bedtime  | 4.5 mg     | not raised |
      | LDN 0.5 mg at bedtime  | 0.5 mg     | not raised |
      | LDN 4.5 mcg at bedtime | 0.0045 mg  | raised     |
      | LDN 0.25 mg at bedtime | 0.25 mg    | raised     |
      | LDN 4.5 g at bedtime   | 4500 mg    | raised     |

  @dose
  Scenario: ULDN written in milligrams next to an opioid: a 1000-fold error
    Given the medication list is:
      | medication                   | status |
      | oxycodone 5 mg every 6 hours | active |
    When naltrexone is ordered as "ULDN 1 mg twice daily"
    Then alert LDN-DOSE-001 is raised with severity critical
    And alert LDN-DOSE-001 mentions "check mg vs µg"
    And alert LDN-OPI-001 is raised with severity critical
    And alert LDN-OPI-006 is not raised

  @dose
  Scenario Outline: The purpose given in the order's structured field (<value> <unit> <frequency> for <purpose>)
    When naltrexone is ordered with a dose of <value> <unit> <frequency> for <purpose>
    Then alert LDN-DOSE-001 is <outcome>

    Examples:
      | value | unit | frequency   | purpose         | outcome    |
      | 1     | mcg  | twice daily | ULDN            | not raised |
      | 1     | mg   | twice daily | ULDN            | raised     |
      | 0.25  | mg   | daily       | VLDN            | not raised |
      | 50    | mg   | daily       | LDN             | raised     |
      | 50    | mg   | daily       | standard dosing | not raised |

  @dose
  Scenario Outline: Above the LDN range and below standard doses (<order>)
    When naltrexone is ordered as "<order>"
    Then alert LDN-DOSE-002 is <outcome>

    Examples:
      | order                        | outcome    |
      | naltrexone 4.5 mg at bedtime | not raised |
      | naltrexone 6 mg at bedtime   | raised     |
      | naltrexone 9 mg at bedtime   | raised     |
      | naltrexone 24 mg daily       | raised     |
      | naltrexone 25 mg daily       | not raised |
      | naltrexone 50 mg once daily  | not raised |

  @dose
  Scenario: Two 4.5 mg capsules at bedtime add up to 9 mg a day
    When naltrexone is ordered as "naltrexone 4.5 mg 2 capsules at bedtime"
    Then the order is read as "naltrexone 9 mg a day"
    And alert LDN-DOSE-002 is raised with severity warning

  @dose
  Scenario Outline: The labelled maximum of 300 mg a day (<order>)
    Given the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 30    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "<order>"
    Then the order is read as "naltrexone <daily dose> a day"
    And alert LDN-DOSE-003 is <outcome>

    Examples:
      | order                               | daily dose | outcome    |
      | naltrexone 50 mg once daily         | 50 mg      | not raised |
      | naltrexone 100 mg three times daily | 300 mg     | not raised |
      | naltrexone 50 mg 7 tablets daily    | 350 mg     | raised     |
      | naltrexone 4.5 g at bedtime         | 4500 mg    | raised     |

  @dose
  Scenario: A standard dose ordered as plain naltrexone: was LDN meant?
    Given the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 30    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "naltrexone 50 mg once daily"
    Then alert LDN-DOSE-004 is raised with severity info
    And no other alert is raised

  @dose
  Scenario: A standard dose ordered as ReVia names its product: no question
    Given the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 30    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "ReVia 50 mg once daily"
    Then alert LDN-DOSE-004 is not raised
    And no alert is raised

  @dose
  Scenario: A standard dose ordered for standard dosing: no question
    Given the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 30    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "naltrexone 50 mg once daily" for standard dosing
    Then alert LDN-DOSE-004 is not raised
    And no alert is raised

  @dose
  Scenario Outline: Compounded liquid LDN is measured in mL of a mg/mL solution (<order>)
    When naltrexone is ordered as "<order>"
    Then the order is read as "naltrexone <daily dose> a day"
    And no dose alert is raised

    Examples:
      | order                                       | daily dose |
      | LDN 1 mg/mL oral solution 1.5 mL at bedtime | 1.5 mg     |
      | LDN 1 mg/mL oral solution 4.5 mL at bedtime | 4.5 mg     |
      | ULDN 1 mcg/mL drops, 1 mL twice daily       | 0.002 mg   |

  @titration
  Scenario Outline: The first LDN dose: start low and go slow (<order>)
    When naltrexone is ordered as "<order>"
    Then alert LDN-TIT-001 is <outcome>

    Examples:
      | order                  | outcome    |
      | LDN 0.5 mg at bedtime  | not raised |
      | LDN 1.5 mg at bedtime  | not raised |
      | LDN 1.5mg qhs          | not raised |
      | LDN 2 mg at bedtime    | raised     |
      | LDN 3 mg every morning | raised     |
      | LDN 4.5 mg at bedtime  | raised     |

  @titration
  Scenario: Starting at the full 4.5 mg dose gets titration advice
    When naltrexone is ordered as "LDN 4.5 mg at bedtime"
    Then alert LDN-TIT-001 is raised with severity info
    And alert LDN-TIT-001 mentions "1.5 mg or less at bedtime"
    And no other alert is raised

  @titration
  Scenario: Stepping up from 3 mg to 4.5 mg is titration, not a new start
    Given the medication list is:
      | medication          | status | started on |
      | LDN 3 mg at bedtime | active | 2026-10-26 |
    When naltrexone is ordered as "LDN 4.5 mg at bedtime"
    Then alert LDN-TIT-001 is not raised
    And alert LDN-DUP-005 is raised with severity warning

  # The schedule seed:001 describes, written on one line: "x 4 weeks" is a duration, not 4
  # capsules. Reading it as 1.5 mg × 4 = 6 mg a day would raise a false "check mg vs µg".
  @titration
  Scenario: A titration schedule written on one line is not read as a larger dose
    When naltrexone is ordered as "LDN 1.5 mg at bedtime x 4 weeks then 3 mg at bedtime"
    Then alert LDN-DOSE-001 is not raised
    And alert LDN-DOSE-002 is not raised

  # Contrave's labelled titration (8, 16, 24 mg naltrexone a day) falls in the 4.5–25 mg band but is
  # a fixed-dose product, not an LDN dose: LDN-DOSE-002 is for compounded naltrexone only.
  @dose
  Scenario: Contrave at its labelled starting dose is not an unusual LDN dose
    When naltrexone is ordered as "Contrave 8/90 mg 1 tablet every morning"
    Then alert LDN-DOSE-002 is not raised

  # A ULDN order written in mg is a unit error (LDN-DOSE-001), not a new LDN start to titrate.
  @titration
  Scenario: No start-low advice for a ULDN order written in milligrams
    When naltrexone is ordered as "ULDN 1 mg twice daily"
    Then alert LDN-DOSE-001 is raised with severity critical
    And alert LDN-TIT-001 is not raised
