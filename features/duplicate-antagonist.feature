# Duplicate or competing opioid antagonists — rules/duplicate-antagonist.yaml (LDN-DUP-001 to LDN-DUP-005)
#
# What the rules say, in plain words:
#   Two active naltrexone sources are duplicate therapy: compounded LDN together with Contrave
#   (naltrexone/bupropion, 8 mg naltrexone a tablet), ReVia (50 mg tablets) or Vivitrol (380 mg
#   every 4 weeks) gives a dose that matches neither purpose [label: Contrave, Vivitrol];
#   seed:003 names Contrave as a product to check for before LDN. Critical in both directions.
#   Embeda and Troxyca contain naltrexone that is sequestered (released only if the capsule is
#   crushed): they are opioids, not a second naltrexone source. The naloxone in Suboxone,
#   Zubsolv, Targiniq and Talwin NX is an abuse deterrent, not an antagonist the patient takes.
#   Other opioid antagonists compete with naltrexone: naloxegol (Movantik) is contraindicated
#   with other opioid antagonists [label: Movantik]; samidorphan in Lybalvi is an opioid
#   antagonist [label: Lybalvi]: warning.
#   A naloxone rescue kit (Narcan) is not a conflict, but overdose care under naltrexone
#   blockade needs specialists [label: naloxone, naltrexone]: information.
#   During LDN titration a new strength is expected; the old order must be stopped so only one
#   dose is taken (seed:001, seed:004): warning.
#
#   LDN-DUP-001  critical  naltrexone ordered, patient takes Contrave, Vivitrol or ReVia
#   LDN-DUP-002  critical  Contrave, Vivitrol or ReVia ordered, patient already takes naltrexone
#   LDN-DUP-003  warning   naltrexone + another opioid antagonist (naloxegol, methylnaltrexone, samidorphan ...)
#   LDN-DUP-004  info      naltrexone + naloxone rescue kit
#   LDN-DUP-005  warning   compounded naltrexone ordered, patient already takes compounded naltrexone

Feature: One naltrexone source at a time, and no competing antagonists
  A pharmacist must see when a naltrexone order doubles up with another naltrexone product or
  competes with another antagonist, without false alarms from products whose naltrexone or
  naloxone is not released when taken as directed.

  Background:
    Given the evaluation date is 2026-11-23
    And a 47-year-old female patient
    And she is not pregnant (negative urine hCG 2026-11-20)

  @duplicate-antagonist
  Scenario Outline: LDN ordered for a patient on a commercial naltrexone product (<product>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 3 mg at bedtime"
    Then alert LDN-DUP-001 is raised with severity critical
    And alert LDN-DUP-005 is not raised

    Examples:
      | medication                             | product                    |
      | Contrave 8/90 mg 2 tablets twice daily | naltrexone/bupropion       |
      | Vivitrol 380 mg IM every 4 weeks       | extended-release injection |
      | ReVia 50 mg daily                      | 50 mg tablets              |

  @duplicate-antagonist
  Scenario: Contrave that was stopped is not a duplicate
    Given the medication list is:
      | medication                             | status  | stopped on |
      | Contrave 8/90 mg 2 tablets twice daily | stopped | 2026-11-01 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DUP-001 is not raised
    And no alert is raised

  @duplicate-antagonist
  Scenario Outline: Sequestered naltrexone in an opioid product is not a duplicate (<product>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DUP-001 is not raised
    And alert LDN-DUP-005 is not raised
    And alert LDN-DUP-003 is not raised
    And alert LDN-OPI-001 is raised with severity critical

    Examples:
      | medication                             | product |
      | Embeda 30/1.2 mg 1 capsule twice daily | Embeda  |
      | Troxyca ER 10/1.2 mg every 12 hours    | Troxyca |

  @duplicate-antagonist
  Scenario Outline: A commercial naltrexone product ordered for a patient already on LDN (<product>)
    Given the medication list is:
      | medication            | status |
      | LDN 4.5 mg at bedtime | active |
    When "<order>" is ordered
    Then alert LDN-DUP-002 is raised with severity critical

    Examples:
      | order                                   | product              |
      | Contrave 8/90 mg 1 tablet every morning | naltrexone/bupropion |
      | Vivitrol 380 mg IM every 4 weeks        | Vivitrol             |
      | ReVia 50 mg once daily                  | ReVia                |

  @duplicate-antagonist
  Scenario: Vivitrol after LDN was stopped is not a duplicate
    Given the medication list is:
      | medication            | status  | stopped on |
      | LDN 4.5 mg at bedtime | stopped | 2026-10-01 |
    And the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 28    | U/L  | 2026-11-10 |
    When "Vivitrol 380 mg IM every 4 weeks" is ordered
    Then alert LDN-DUP-002 is not raised
    And no alert is raised

  @duplicate-antagonist
  Scenario: ReVia for a patient on Embeda is an opioid conflict, not a duplicate
    Given the medication list is:
      | medication                             | status |
      | Embeda 30/1.2 mg 1 capsule twice daily | active |
    And the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 28    | U/L  | 2026-11-10 |
    When "ReVia 50 mg once daily" is ordered
    Then alert LDN-DUP-002 is not raised
    And alert LDN-DUP-001 is not raised
    And alert LDN-OPI-001 is raised with severity critical
    And no other alert is raised

  @duplicate-antagonist
  Scenario Outline: Another opioid antagonist competes with naltrexone (<antagonist>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DUP-003 is raised with severity warning
    And alert LDN-DUP-003 mentions "<antagonist>"

    Examples:
      | medication                    | antagonist       |
      | Movantik 25 mg every morning  | naloxegol        |
      | Relistor 450 mg every morning | methylnaltrexone |
      | Lybalvi 10/10 mg at bedtime   | samidorphan      |

  @duplicate-antagonist
  Scenario Outline: Abuse-deterrent naloxone in an opioid product is not a competing antagonist (<product>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DUP-003 is not raised
    And alert LDN-DUP-004 is not raised
    And alert LDN-OPI-001 is raised with severity critical

    Examples:
      | medication                                           | product   |
      | Suboxone 8/2 mg film once daily                      | Suboxone  |
      | Zubsolv 5.7/1.4 mg once daily                        | Zubsolv   |
      | Targiniq 10/5 mg every 12 hours                      | Targiniq  |
      | Talwin NX 50/0.5 mg 1 tablet every 4 hours as needed | Talwin NX |

  @duplicate-antagonist
  Scenario: A naloxone rescue kit is not a conflict, but the patient should carry a card
    Given the medication list is:
      | medication | status |
      | Narcan kit | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DUP-004 is raised with severity info
    And alert LDN-DUP-003 is not raised
    And no other alert is raised

  @duplicate-antagonist
  Scenario: A naloxone kit alongside a new opioid prescription is good practice
    Given the medication list is:
      | medication | status |
      | Narcan kit | active |
    When "oxycodone 5 mg every 6 hours as needed" is ordered
    Then alert LDN-DUP-004 is not raised
    And no alert is raised

  @duplicate-antagonist
  Scenario: A new LDN strength while the previous one is still active
    Given the medication list is:
      | medication            | status | started on |
      | LDN 1.5 mg at bedtime | active | 2026-10-20 |
    When naltrexone is ordered as "LDN 3 mg at bedtime"
    Then alert LDN-DUP-005 is raised with severity warning
    And alert LDN-DUP-005 mentions "stop the current one"
    And alert LDN-DUP-001 is not raised
    And no other alert is raised

  @duplicate-antagonist
  Scenario: A new LDN strength after the previous one was stopped
    Given the medication list is:
      | medication            | status  | started on | stopped on |
      | LDN 1.5 mg at bedtime | stopped | 2026-10-20 | 2026-11-22 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DUP-005 is not raised
    And no alert is raised

  # The other way round: an antagonist ordered for a patient already on naltrexone (LDN-DUP-006).
  @duplicate-antagonist
  Scenario Outline: An opioid antagonist ordered for a patient on LDN (<order>)
    Given the medication list is:
      | medication            | status |
      | LDN 4.5 mg at bedtime | active |
    When "<order>" is ordered
    Then alert LDN-DUP-006 is raised with severity warning

    Examples:
      | order                     |
      | Movantik 25 mg once daily |
      | Lybalvi 10/10 mg daily    |

  @duplicate-antagonist
  Scenario: A naloxone rescue kit ordered for a patient on LDN is not a competing antagonist
    Given the medication list is:
      | medication            | status |
      | LDN 4.5 mg at bedtime | active |
    When "Narcan 4 mg nasal spray as needed" is ordered
    Then alert LDN-DUP-006 is not raised

  # Standard-dose naltrexone without a brand name is still a standard-dose source, not a refill.
  @duplicate-antagonist
  Scenario: Generic 50 mg naltrexone on the list and an LDN order
    Given the medication list is:
      | medication                  | status |
      | naltrexone 50 mg once daily | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DUP-001 is raised with severity critical
    And alert LDN-DUP-005 is not raised
