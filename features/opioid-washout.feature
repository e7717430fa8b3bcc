# Opioid-free intervals — rules/opioid-washout.yaml (LDN-WASH-001 to LDN-WASH-004)
#
# What the rules say, in plain words:
#   Before the first naltrexone dose the patient must be opioid-free for at least 7–10 days after
#   a short-acting opioid, tramadol included [label: naltrexone]. The rule uses the upper end,
#   10 days, so nobody is started early (a reviewable parameter). Opioid cough and antidiarrheal
#   medicines count; loperamide (acts in the gut only) does not.
#   After methadone or buprenorphine, naltrexone can bring on withdrawal for as long as two
#   weeks [label: naltrexone]: 14 days.
#   After naltrexone is stopped, opioid tolerance is lower than before: a dose the patient used to
#   tolerate can cause a fatal overdose [label: naltrexone]. No source gives a duration; the rule
#   warns for 30 days after a low or standard dose is stopped (a design choice).
#   Ultra-low dose naltrexone (micrograms) is given alongside opioids by design, so none of the
#   intervals applies to it (seed:004).
#
#   LDN-WASH-001  warning  naltrexone ≥ 0.5 mg/day, short-acting opioid stopped fewer than 10 days ago
#   LDN-WASH-002  warning  naltrexone ≥ 0.5 mg/day, methadone or buprenorphine stopped fewer than 14 days ago
#   LDN-WASH-003  warning  opioid ordered fewer than 30 days after naltrexone (≥ 0.5 mg/day) was stopped
#   LDN-WASH-004  warning  an opioid recorded as stopped with no stop date: the interval cannot be checked

Feature: The opioid-free interval around naltrexone
  Starting naltrexone too soon after an opioid precipitates withdrawal; starting an opioid soon
  after naltrexone risks overdose because tolerance has dropped.

  Background:
    Given the evaluation date is 2026-11-23
    And a 38-year-old male patient

  @opioid-washout
  Scenario Outline: Days since a short-acting opioid was stopped (<opioid-free days> opioid-free days)
    Given the medication list is:
      | medication | status  | stopped on   |
      | <opioid>   | stopped | <stopped on> |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-WASH-001 is <outcome>
    And alert LDN-OPI-001 is not raised

    Examples:
      | opioid                                 | stopped on | opioid-free days | outcome    |
      | oxycodone 5 mg every 6 hours           | 2026-11-20 | 3                | raised     |
      | oxycodone 5 mg every 6 hours           | 2026-11-16 | 7                | raised     |
      | oxycodone 5 mg every 6 hours           | 2026-11-14 | 9                | raised     |
      | oxycodone 5 mg every 6 hours           | 2026-11-13 | 10               | not raised |
      | oxycodone 5 mg every 6 hours           | 2026-11-01 | 22               | not raised |
      | tramadol 50 mg every 6 hours as needed | 2026-11-18 | 5                | raised     |
      | tramadol 50 mg every 6 hours as needed | 2026-11-13 | 10               | not raised |
      | Percocet 5/325 1 q6h prn               | 2026-11-15 | 8                | raised     |

  @opioid-washout
  Scenario: The washout alert says how many days have passed
    Given the medication list is:
      | medication                   | stopped on |
      | oxycodone 5 mg every 6 hours | 9 days ago |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-WASH-001 is raised with severity warning
    And alert LDN-WASH-001 mentions "stopped 9 days ago"
    And no other alert is raised

  @opioid-washout
  Scenario: A recently stopped opioid cough syrup counts towards the interval
    Given the medication list is:
      | medication                    | status  | stopped on |
      | Tussionex 5 mL every 12 hours | stopped | 2026-11-20 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-WASH-001 is raised with severity warning

  @opioid-washout
  Scenario: Recently stopped loperamide does not need an opioid-free interval
    Given the medication list is:
      | medication                       | status  | stopped on |
      | loperamide 2 mg four times daily | stopped | 2026-11-20 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-WASH-001 is not raised
    And no alert is raised

  @opioid-washout
  Scenario: ULDN may start while the opioid is still being tapered off
    Given the medication list is:
      | medication                   | status  | stopped on |
      | oxycodone 5 mg every 6 hours | stopped | 2026-11-20 |
    When naltrexone is ordered as "ULDN 1 mcg twice daily"
    Then alert LDN-WASH-001 is not raised
    And no alert is raised

  @opioid-washout
  Scenario: Methadone maintenance follows the two-week interval, not the 10-day one
    Given the medication list is:
      | medication            | status  | stopped on |
      | methadone 40 mg daily | stopped | 2026-11-18 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-WASH-002 is raised with severity warning
    And alert LDN-WASH-001 is not raised

  @opioid-washout
  Scenario Outline: Days since methadone or buprenorphine was stopped (<opioid-free days> opioid-free days)
    Given the medication list is:
      | medication | status  | stopped on   |
      | <opioid>   | stopped | <stopped on> |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-WASH-002 is <outcome>

    Examples:
      | opioid                          | stopped on | opioid-free days | outcome    |
      | methadone 40 mg daily           | 2026-11-18 | 5                | raised     |
      | methadone 40 mg daily           | 2026-11-10 | 13               | raised     |
      | methadone 40 mg daily           | 2026-11-09 | 14               | not raised |
      | Suboxone 8/2 mg film once daily | 2026-11-15 | 8                | raised     |
      | Suboxone 8/2 mg film once daily | 2026-11-09 | 14               | not raised |

  @opioid-washout
  Scenario: ULDN during a methadone taper needs no two-week wait
    Given the medication list is:
      | medication            | status  | stopped on |
      | methadone 40 mg daily | stopped | 2026-11-18 |
    When naltrexone is ordered as "ULDN 1 mcg twice daily"
    Then alert LDN-WASH-002 is not raised
    And no alert is raised

  @opioid-washout
  Scenario Outline: An opioid ordered soon after LDN was stopped: lower tolerance (<days> days after)
    Given the medication list is:
      | medication            | status  | stopped on   |
      | LDN 4.5 mg at bedtime | stopped | <stopped on> |
    When "oxycodone 5 mg every 6 hours as needed" is ordered
    Then alert LDN-WASH-003 is <outcome>
    And alert LDN-OPI-002 is not raised

    Examples:
      | stopped on | days | outcome    |
      | 2026-11-20 | 3    | raised     |
      | 2026-11-03 | 20   | raised     |
      | 2026-10-25 | 29   | raised     |
      | 2026-10-24 | 30   | not raised |
      | 2026-09-24 | 60   | not raised |

  @opioid-washout
  Scenario: An opioid after standard-dose naltrexone was stopped: overdose warning
    Given the medication list is:
      | medication             | stopped on  |
      | ReVia 50 mg once daily | 12 days ago |
    When "Percocet 5/325 1 q6h prn" is ordered
    Then alert LDN-WASH-003 is raised with severity warning
    And alert LDN-WASH-003 mentions "12 days after naltrexone stopped"
    And no other alert is raised

  @opioid-washout
  Scenario: Stopping ULDN does not change opioid tolerance
    Given the medication list is:
      | medication             | status  | stopped on |
      | ULDN 1 mcg twice daily | stopped | 2026-11-18 |
    When "oxycodone 5 mg every 6 hours as needed" is ordered
    Then alert LDN-WASH-003 is not raised
    And no alert is raised

  # An opioid marked stopped without a stop date: the interval cannot be checked, and LDN-WASH-004
  # says so rather than assuming it has passed.
  @opioid-washout
  Scenario: An opioid stopped on an unknown date: the interval could not be checked, and that is said
    Given the medication list is:
      | medication                   | status  |
      | oxycodone 5 mg every 6 hours | stopped |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-WASH-004 is raised with severity warning
    And alert LDN-WASH-001 is not raised

  @opioid-washout
  Scenario: An opioid stopped on a known date does not raise the missing-date alert
    Given the medication list is:
      | medication                   | status  | stopped on |
      | oxycodone 5 mg every 6 hours | stopped | 2026-10-01 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-WASH-004 is not raised
    And no alert is raised
