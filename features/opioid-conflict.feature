# Opioid conflicts — rules/opioid-conflict.yaml (LDN-OPI-001 to LDN-OPI-007)
#
# What the rules say, in plain words:
#   Naltrexone blocks opioid receptors. From 0.5 mg a day it blunts opioid pain relief and can
#   bring on acute withdrawal in anyone who is physically dependent, including patients on
#   methadone or buprenorphine maintenance. Labelling lists current opioid analgesic use and
#   opioid dependence as contraindications [label: naltrexone]; "should not take LDN
#   simultaneously" with opioid painkillers (seed:003); LDN "can negate the effect of
#   opiate-based painkillers" (seed:004). It works both ways: an opioid ordered for a patient
#   already on LDN will be blocked (seed:003).
#   Opioid cough and antidiarrheal medicines simply stop working [label: Vivitrol §7].
#   Loperamide acts in the gut only (information), dextromethorphan is not an opioid agonist
#   (no alert).
#   Ultra-low dose naltrexone (micrograms; 1 µg twice daily) WITH an opioid is intended — opioid
#   weaning, better analgesia, less tolerance (seed:004, seed:000; Webster 2006): information,
#   not a conflict. 0.01 mg to under 0.5 mg a day is a specialist very-low-dose protocol
#   (Toljan & Vrooman 2018; Mannelli 2009): warning. The 0.01 mg and 0.5 mg cut-offs are design
#   choices kept in rules/terminology/dose-bands.yaml.
#   An opioid use disorder or long-term opioid use on the problem list means "confirm the
#   patient is opioid-free first", even with no opioid on the medication list [label: naltrexone].
#
#   LDN-OPI-001  critical  naltrexone 0.5 mg/day or more + active opioid analgesic or maintenance opioid
#   LDN-OPI-002  critical  opioid ordered for a patient on naltrexone 0.5 mg/day or more
#   LDN-OPI-003  warning   naltrexone + opioid cough or antidiarrheal medicine
#   LDN-OPI-004  info      naltrexone + loperamide
#   LDN-OPI-005  warning   very-low-dose naltrexone (0.01 to < 0.5 mg/day) + active opioid
#   LDN-OPI-006  info      ultra-low-dose naltrexone (< 0.01 mg/day) + active opioid: intended
#   LDN-OPI-007  warning   naltrexone 0.5 mg/day or more + opioid use disorder or long-term opioid use

Feature: Naltrexone and opioids do not mix, except ultra-low dose by design
  A pharmacist verifying a naltrexone order must see every active opioid that it would block,
  and must not be told that an intended ULDN weaning regimen is a conflict.

  Background:
    Given the evaluation date is 2026-11-23
    And a 52-year-old male patient

  @opioid-conflict
  Scenario Outline: LDN for a patient taking an opioid is a critical conflict (<kind>)
    Given the medication list is:
      | medication | status |
      | <opioid>   | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-001 is raised with severity critical
    And alert LDN-OPI-006 is not raised

    Examples:
      | opioid                                               | kind                                    |
      | Percocet 5/325 1 q6h prn                             | oxycodone combination                   |
      | Norco 5/325 1-2 tabs q4-6h prn                       | hydrocodone combination                 |
      | OxyContin 20 mg every 12 hours                       | long-acting oxycodone                   |
      | tramadol 50 mg every 6 hours as needed               | tramadol                                |
      | Tylenol #3 1 tab q4h prn                             | codeine for pain                        |
      | fentanyl 25 mcg/h patch every 72 hours               | fentanyl patch                          |
      | Butrans 10 mcg/hr patch weekly                       | buprenorphine patch for pain            |
      | methadone 60 mg daily                                | methadone maintenance                   |
      | Suboxone 8/2 mg film once daily                      | buprenorphine maintenance with naloxone |
      | Embeda 30/1.2 mg 1 capsule twice daily               | morphine with sequestered naltrexone    |
      | Troxyca ER 10/1.2 mg every 12 hours                  | oxycodone with sequestered naltrexone   |
      | Talwin NX 50/0.5 mg 1 tablet every 4 hours as needed | pentazocine (mixed agonist-antagonist)  |
      | nalbuphine 10 mg every 6 hours                       | nalbuphine (mixed agonist-antagonist)   |

  @opioid-conflict
  Scenario: The conflict alert names the opioid it found
    Given the medication list is:
      | medication                                   | status |
      | Percocet 5/325 1 q6h prn                     | active |
      | acetaminophen 500 mg every 6 hours as needed | active |
    When naltrexone is ordered as "LDN 4.5 mg at bedtime"
    Then alert LDN-OPI-001 is raised with severity critical
    And alert LDN-OPI-001 mentions "Percocet 5/325 1 q6h prn"
    And alert LDN-OPI-001 mentions "oxycodone"

  @opioid-conflict
  Scenario: An opioid that was stopped is no longer a conflict (the opioid-free interval applies instead)
    Given the medication list is:
      | medication                   | status  | stopped on |
      | oxycodone 5 mg every 6 hours | stopped | 2026-10-01 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-001 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario Outline: An opioid ordered for a patient already on LDN will be blocked (<kind>)
    Given the medication list is:
      | medication            | status |
      | LDN 4.5 mg at bedtime | active |
    When "<opioid order>" is ordered
    Then alert LDN-OPI-002 is raised with severity critical

    Examples:
      | opioid order                                    | kind                |
      | oxycodone 5 mg every 6 hours as needed          | opioid analgesic    |
      | Percocet 5/325 1 q6h prn                        | opioid combination  |
      | methadone 10 mg every 8 hours                   | methadone           |
      | Robitussin AC 10 mL at bedtime as needed        | codeine cough syrup |
      | Lomotil 2.5/0.025 mg 2 tablets four times daily | diphenoxylate       |

  @opioid-conflict
  Scenario: An opioid ordered for a patient on standard-dose Vivitrol will be blocked
    Given the medication list is:
      | medication                       | status |
      | Vivitrol 380 mg IM every 4 weeks | active |
    When "Percocet 5/325 1 q6h prn" is ordered
    Then alert LDN-OPI-002 is raised with severity critical

  @opioid-conflict
  Scenario: An opioid ordered for a patient on ULDN is the intended weaning combination
    Given the medication list is:
      | medication             | status |
      | ULDN 1 mcg twice daily | active |
    When "oxycodone 5 mg every 6 hours as needed" is ordered
    Then alert LDN-OPI-002 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario: Loperamide ordered for a patient on LDN is not blocked
    Given the medication list is:
      | medication            | status |
      | LDN 4.5 mg at bedtime | active |
    When "loperamide 2 mg four times daily as needed" is ordered
    Then alert LDN-OPI-002 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario: Dextromethorphan ordered for a patient on LDN is not an opioid
    Given the medication list is:
      | medication            | status |
      | LDN 4.5 mg at bedtime | active |
    When "dextromethorphan 30 mg every 6 hours as needed" is ordered
    Then alert LDN-OPI-002 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario Outline: An opioid cough or antidiarrheal medicine will stop working (<kind>)
    Given the medication list is:
      | medication | status |
      | <medicine> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-003 is raised with severity warning
    And alert LDN-OPI-001 is not raised
    And alert LDN-OPI-004 is not raised

    Examples:
      | medicine                                                  | kind                         |
      | Robitussin AC 10 mL every 4 hours as needed               | codeine cough syrup          |
      | Tussionex 5 mL every 12 hours                             | hydrocodone cough suspension |
      | Lomotil 2.5/0.025 mg 2 tablets four times daily as needed | diphenoxylate/atropine       |

  @opioid-conflict
  Scenario: Codeine taken for pain is an analgesic conflict, not a cough-medicine warning
    Given the medication list is:
      | medication               | status |
      | Tylenol #3 1 tab q4h prn | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-001 is raised with severity critical
    And alert LDN-OPI-003 is not raised

  @opioid-conflict
  Scenario: Dextromethorphan cough medicine is not an opioid agonist
    Given the medication list is:
      | medication                                     | status |
      | dextromethorphan 30 mg every 6 hours as needed | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-003 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario: Loperamide acts in the gut: information only
    Given the medication list is:
      | medication                                 | status |
      | loperamide 2 mg four times daily as needed | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-004 is raised with severity info
    And alert LDN-OPI-001 is not raised
    And alert LDN-OPI-003 is not raised
    And no other alert is raised

  @opioid-conflict
  Scenario: Loperamide that was stopped is not mentioned
    Given the medication list is:
      | medication                                 | status  | stopped on |
      | loperamide 2 mg four times daily as needed | stopped | 2026-11-20 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-004 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario Outline: Which naltrexone dose conflicts with an active opioid (<daily dose> a day)
    Given the medication list is:
      | medication                   | status |
      | oxycodone 5 mg every 6 hours | active |
    When naltrexone is ordered as "<order>"
    Then the order is read as "naltrexone <daily dose> a day"
    And alert LDN-OPI-006 is <ULDN, intended>
    And alert LDN-OPI-005 is <VLDN, specialist protocol>
    And alert LDN-OPI-001 is <conflict>

    Examples:
      | order                           | daily dose | ULDN, intended | VLDN, specialist protocol | conflict   |
      | ULDN 1 mcg twice daily          | 0.002 mg   | raised         | not raised                | not raised |
      | ULDN 1 µg bid                   | 0.002 mg   | raised         | not raised                | not raised |
      | naltrexone 9 mcg at bedtime     | 0.009 mg   | raised         | not raised                | not raised |
      | naltrexone 10 mcg at bedtime    | 0.01 mg    | not raised     | raised                    | not raised |
      | naltrexone 0.125 mg twice daily | 0.25 mg    | not raised     | raised                    | not raised |
      | naltrexone 0.45 mg at bedtime   | 0.45 mg    | not raised     | raised                    | not raised |
      | naltrexone 0.5 mg at bedtime    | 0.5 mg     | not raised     | not raised                | raised     |
      | LDN 4.5 mg at bedtime           | 4.5 mg     | not raised     | not raised                | raised     |

  @opioid-conflict
  Scenario: ULDN alongside an opioid taper is intended co-use, not a conflict
    Given the medication list is:
      | medication                   | status |
      | oxycodone 5 mg every 6 hours | active |
    When naltrexone is ordered as "ULDN 1 mcg twice daily"
    Then alert LDN-OPI-006 is raised with severity info
    And alert LDN-OPI-006 mentions "micrograms"
    And alert LDN-OPI-001 is not raised
    And no other alert is raised

  @opioid-conflict
  Scenario: ULDN for a patient whose opioid was stopped has nothing to co-use with
    Given the medication list is:
      | medication                   | status  | stopped on |
      | oxycodone 5 mg every 6 hours | stopped | 2026-11-20 |
    When naltrexone is ordered as "ULDN 1 mcg twice daily"
    Then alert LDN-OPI-006 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario: Very-low-dose naltrexone during a methadone taper is a specialist protocol
    Given the medication list is:
      | medication            | status |
      | methadone 40 mg daily | active |
    When naltrexone is ordered as "naltrexone 0.25 mg daily"
    Then alert LDN-OPI-005 is raised with severity warning
    And alert LDN-OPI-001 is not raised
    And no other alert is raised

  @opioid-conflict
  Scenario: Very-low-dose naltrexone without any opioid raises no opioid alert
    When naltrexone is ordered as "naltrexone 0.25 mg daily"
    Then alert LDN-OPI-005 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario Outline: Opioid use disorder or long-term opioid use on record: confirm opioid-free first (<code>)
    Given the problem list is:
      | ICD-10 | condition   | status |
      | <code> | <condition> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-007 is raised with severity warning
    And alert LDN-OPI-007 mentions "<condition>"

    Examples:
      | code    | condition                                   |
      | F11.20  | Opioid dependence, uncomplicated            |
      | F11.21  | Opioid dependence, in remission             |
      | Z79.891 | Long term (current) use of opiate analgesic |

  @opioid-conflict
  Scenario: Standard-dose naltrexone for opioid dependence also needs an opioid-free state
    Given the problem list is:
      | ICD-10 | condition                        | status |
      | F11.20 | Opioid dependence, uncomplicated | active |
    And the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 30    | U/L  | 2026-11-01 |
    When naltrexone is ordered as "ReVia 50 mg once daily"
    Then alert LDN-OPI-007 is raised with severity warning

  @opioid-conflict
  Scenario: Naltrexone for alcohol dependence is not an opioid problem
    Given the problem list is:
      | ICD-10 | condition                         | status |
      | F10.20 | Alcohol dependence, uncomplicated | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-007 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario: Long-term opioid use that has ended is not a reason to warn
    Given the problem list is:
      | ICD-10  | condition                                   | status   |
      | Z79.891 | Long term (current) use of opiate analgesic | resolved |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-007 is not raised
    And no alert is raised

  @opioid-conflict
  Scenario: ULDN for a patient on long-term opioids is the weaning regimen, not a warning
    Given the problem list is:
      | ICD-10  | condition                                   | status |
      | Z79.891 | Long term (current) use of opiate analgesic | active |
    When naltrexone is ordered as "ULDN 1 mcg twice daily"
    Then alert LDN-OPI-007 is not raised
    And no alert is raised

  # Loperamide acts in the gut and is not weaned: ULDN with it is not an opioid-weaning combination.
  @opioid-conflict
  Scenario: ULDN with loperamide is not an opioid-weaning combination
    Given the medication list is:
      | medication                                 | status |
      | loperamide 2 mg four times daily as needed | active |
    When naltrexone is ordered as "ULDN 1 mcg twice daily"
    Then alert LDN-OPI-004 is raised with severity info
    And alert LDN-OPI-006 is not raised

  # A positive urine opioid screen is a labelled contraindication (label: naltrexone): it shows
  # opioid use whatever the medication list says. ULDN with opioids is intended, so it is exempt.
  @opioid-conflict
  Scenario Outline: A urine opioid screen before naltrexone (<screen> on <taken>)
    Given the lab results are:
      | test                         | LOINC   | result   | taken   |
      | Opiates [Presence] in Urine  | 19295-5 | <screen> | <taken> |
    When naltrexone is ordered as "<order>"
    Then alert LDN-OPI-008 is <outcome>

    Examples:
      | screen       | taken      | order                  | outcome                        |
      | Positive     | 2026-11-20 | LDN 1.5 mg at bedtime  | raised with severity critical  |
      | Detected     | 2026-11-10 | ReVia 50 mg once daily | raised with severity critical  |
      | Positive     | 2026-10-01 | LDN 1.5 mg at bedtime  | not raised                     |
      | Negative     | 2026-11-20 | LDN 1.5 mg at bedtime  | not raised                     |
      | Not detected | 2026-11-20 | LDN 1.5 mg at bedtime  | not raised                     |
      | Positive     | 2026-11-20 | ULDN 1 mcg twice daily | not raised                     |

  # A medication on hold, or whose status is not known, may be resumed at any time: it still
  # counts. Only a stopped medication does not.
  @opioid-conflict
  Scenario Outline: An opioid on hold or of unknown status still conflicts (<status>)
    Given the medication list is:
      | medication            | status   |
      | methadone 60 mg daily | <status> |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-OPI-001 is <outcome>

    Examples:
      | status  | outcome                       |
      | on-hold | raised with severity critical |
      | unknown | raised with severity critical |
      | stopped | not raised                    |

  # Vivitrol blocks opioid receptors for the whole 4-week interval after an injection (label: Vivitrol).
  @opioid-conflict
  Scenario Outline: An opioid ordered after the last Vivitrol injection (<days> days)
    Given the medication list is:
      | medication                         | status  | stopped on   |
      | Vivitrol 380 mg IM every 4 weeks   | stopped | <stopped on> |
    When "oxycodone 5 mg every 6 hours as needed" is ordered
    Then alert LDN-OPI-009 is <outcome>

    Examples:
      | stopped on | days | outcome                       |
      | 2026-11-13 | 10   | raised with severity critical |
      | 2026-10-27 | 27   | raised with severity critical |
      | 2026-10-26 | 28   | not raised                    |
