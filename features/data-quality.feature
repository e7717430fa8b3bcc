# Data quality — rules/data-quality.yaml (LDN-DQ-001 to LDN-DQ-004)
#
# What the rules say, in plain words:
#   What LDN CDS cannot understand is said, never guessed [design]:
#   - a medication it does not recognise could be an opioid or an antagonist, so every other
#     check is blind to it (warning);
#   - a naltrexone dose it cannot work out (no unit, no frequency, a volume without a
#     concentration) means the dose-band and opioid-conflict checks were not done: the mg versus
#     µg distinction decides whether naltrexone with an opioid is intended or dangerous
#     (ldn-facts §1, seed:004), so it is never guessed (warning);
#   - any other medication whose dose cannot be worked out is recognised and checked, but its
#     daily dose is unknown (information);
#   - a laboratory result in a unit it cannot compare is treated as not recorded (information).
#
#   LDN-DQ-001  warning  a medication that is not recognised
#   LDN-DQ-002  warning  a naltrexone dose that cannot be worked out
#   LDN-DQ-003  info     another medication's dose that cannot be worked out
#   LDN-DQ-004  info     a laboratory result in a unit that cannot be used

Feature: What the service could not understand is said, not assumed
  A silent gap would hide a conflict: the pharmacist is told exactly which entry was not
  understood and which checks therefore were not done.

  Background:
    Given the evaluation date is 2026-11-23
    And a 57-year-old male patient

  @data-quality
  Scenario Outline: A medicine LDN CDS does not know is reported (<medication>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-001 is raised with severity warning
    And alert LDN-DQ-001 mentions "<medication>"

    Examples:
      | medication                   |
      | kratom 2 g three times daily |
      | Zyflamend 1 capsule daily    |
      | ashwagandha 300 mg daily     |

  @data-quality
  Scenario: An unrecognised medicine is reported even without a new order
    Given the medication list is:
      | medication                   | status |
      | kratom 2 g three times daily | active |
    When the record is checked without a new order
    Then alert LDN-DQ-001 is raised with severity warning

  @data-quality
  Scenario: Common co-medications are recognised
    Given the medication list is:
      | medication                                   | status |
      | acetaminophen 500 mg every 6 hours as needed | active |
      | levothyroxine 100 mcg daily                  | active |
      | sertraline 50 mg daily                       | active |
      | metformin 500 mg twice daily                 | active |
      | gabapentin 300 mg three times daily          | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-001 is not raised
    And no alert is raised

  @data-quality
  Scenario Outline: An LDN order whose dose cannot be worked out (<problem>)
    When naltrexone is ordered as "<order>"
    Then alert LDN-DQ-002 is raised with severity warning
    And alert LDN-DQ-002 mentions "<problem>"

    Examples:
      | order                 | problem                                   |
      | LDN 4.5 at bedtime    | no unit is given                          |
      | LDN take as directed  | no dose is given                          |
      | LDN 4.5 mg            | no frequency is given                     |
      | LDN 4.5 mL at bedtime | a volume is given without a concentration |

  @data-quality
  # A naltrexone dose that cannot be read is not known to be ULDN: the opioid conflict is still raised.
  Scenario: An unreadable LDN dose next to an opioid is reported, not guessed
    Given the medication list is:
      | medication                   | status |
      | oxycodone 5 mg every 6 hours | active |
    When naltrexone is ordered as "LDN 4.5 at bedtime"
    Then alert LDN-DQ-002 is raised with severity warning
    And alert LDN-DQ-002 mentions "dose-band checks were not done"
    And alert LDN-OPI-001 is raised with severity critical
    And alert LDN-OPI-006 is not raised

  @data-quality
  Scenario: An unreadable dose of LDN the patient already takes is reported
    Given the medication list is:
      | medication               | status |
      | LDN capsules as directed | active |
    When "oxycodone 5 mg every 6 hours as needed" is ordered
    Then alert LDN-DQ-002 is raised with severity warning
    And alert LDN-OPI-002 is raised with severity critical

  @data-quality
  Scenario Outline: LDN doses written the way pharmacists write them are understood (<order>)
    When naltrexone is ordered as "<order>"
    Then alert LDN-DQ-002 is not raised
    And the order is read as "naltrexone <daily dose> a day"

    Examples:
      | order                                       | daily dose |
      | LDN 4.5mg po qhs                            | 4.5 mg     |
      | LDN 1.5 mg PO QHS                           | 1.5 mg     |
      | LDN 4.5 mg nightly                          | 4.5 mg     |
      | naltrexone 4.5 mg capsule, 1 cap at bedtime | 4.5 mg     |
      | LDN 3 mg SL at bedtime                      | 3 mg       |
      | LDN 1 mg/mL oral solution 4.5 mL at bedtime | 4.5 mg     |
      | ULDN 1 microgram BID                        | 0.002 mg   |

  @data-quality
  Scenario Outline: Another medicine's dose that cannot be worked out (<problem>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-003 is raised with severity info
    And alert LDN-DQ-003 mentions "<problem>"
    And alert LDN-DQ-002 is not raised

    Examples:
      | medication                                  | problem                                   |
      | oxycodone 5 at bedtime                      | no unit is given                          |
      | Imodium 2 mg after each loose stool         | no frequency is given                     |
      | Robitussin AC 10 mL every 4 hours as needed | a volume is given without a concentration |

  @data-quality
  Scenario: A medicine with an unclear dose is still checked for what it is
    Given the medication list is:
      | medication             | status |
      | oxycodone 5 at bedtime | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-003 is raised with severity info
    And alert LDN-OPI-001 is raised with severity critical

  @data-quality
  Scenario: Opioid doses written as pharmacists write them are understood
    Given the medication list is:
      | medication                             | status |
      | Percocet 5/325 1 q6h prn               | active |
      | tramadol 50mg 1-2 tabs q6h prn         | active |
      | fentanyl 25 mcg/h patch every 72 hours | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-003 is not raised
    And alert LDN-OPI-001 is raised with severity critical

  @data-quality
  Scenario Outline: A lab result in a unit that cannot be compared (<test> in <unit>)
    Given the lab results are:
      | test   | LOINC   | value   | unit   | taken      |
      | <test> | <LOINC> | <value> | <unit> | 2026-11-10 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-004 is raised with severity info
    And alert LDN-DQ-004 mentions "<unit>"

    Examples:
      | test       | LOINC   | value | unit        |
      | ALT        | 1742-6  | 2.5   | µkat/L      |
      | eGFR       | 98979-8 | 0.4   | mL/s/1.73m2 |
      | creatinine | 2160-0  | 2.5   | mmol/L      |

  @data-quality
  Scenario: A low eGFR in an unusable unit is not guessed at
    Given the lab results are:
      | test | LOINC   | value | unit        | taken      |
      | eGFR | 98979-8 | 0.4   | mL/s/1.73m2 | 2026-11-10 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-004 is raised with severity info
    And no renal alert is raised

  @data-quality
  Scenario Outline: Lab units that can be compared or converted are used (<test> in <unit>)
    Given the lab results are:
      | test   | LOINC   | value   | unit   | taken      |
      | <test> | <LOINC> | <value> | <unit> | 2026-11-10 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-004 is not raised
    And no alert is raised

    Examples:
      | test       | LOINC   | value | unit             |
      | ALT        | 1742-6  | 32    | IU/L             |
      | creatinine | 2160-0  | 88    | µmol/L           |
      | bilirubin  | 1975-2  | 12    | umol/L           |
      | eGFR       | 98979-8 | 75    | mL/min/{1.73_m2} |

  # Labels print combination strengths with a unit on each part ("8 mg/90 mg").
  @data-quality
  Scenario Outline: Combination strengths written with a unit on each part (<medication>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-002 is not raised
    And alert LDN-DQ-003 is not raised

    Examples:
      | medication                                  |
      | Contrave 8 mg/90 mg 2 tablets twice daily   |
      | Embeda 30 mg/1.2 mg 1 capsule twice daily   |
      | buprenorphine/naloxone 8 mg/2 mg film daily |

  @data-quality
  Scenario Outline: Everyday sigs for opioid combinations are read (<medication>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-003 is not raised
    And alert LDN-OPI-001 is raised with severity critical

    Examples:
      | medication                                  |
      | Norco 10-325 1 tab q6h prn                  |
      | oxycodone 5 mg every 4 to 6 hours as needed |

  # When parts of the record disagree, LDN CDS does not pick one: it reports the conflict and keeps
  # what could matter (here, pregnancy status becomes "unknown").
  @data-quality
  Scenario: Recorded as not pregnant, but the problem list has an active pregnancy
    Given a 31-year-old female patient
    And she is not pregnant
    And the problem list is:
      | ICD-10 | condition                              | status |
      | Z33.1  | Pregnant state, incidental             | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-005 is raised with severity warning
    And alert LDN-DQ-005 mentions "patient.pregnancy"
    And alert LDN-PREG-002 is raised with severity info
    And alert LDN-PREG-001 is not raised

  @data-quality
  Scenario: A stopped medication whose end date is still to come
    Given the medication list is:
      | medication                   | status  | stopped on |
      | oxycodone 5 mg every 6 hours | stopped | 2026-12-01 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-005 is raised with severity warning
    And alert LDN-OPI-001 is raised with severity critical

  @data-quality
  Scenario: A record whose parts agree raises no conflict
    Given a 31-year-old female patient
    And she is pregnant
    And the problem list is:
      | ICD-10 | condition                  | status |
      | Z33.1  | Pregnant state, incidental | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DQ-005 is not raised
    And alert LDN-PREG-001 is raised with severity warning
