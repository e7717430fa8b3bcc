# Pregnancy, unknown pregnancy status and breastfeeding — rules/pregnancy.yaml
# (LDN-PREG-001, LDN-PREG-002, LDN-LACT-001)
#
# What the rules say, in plain words:
#   There are no adequate controlled studies of LDN in pregnancy (seed:001); animal studies at
#   standard doses showed early fetal loss and human data are insufficient [label: naltrexone,
#   pregnancy section]. LDN is used off-label for infertility and PCOS, so a pregnancy may have
#   been planned with it (seed:001, seed:000, seed:004). Pregnancy is therefore a warning that
#   asks for a documented risk–benefit discussion, not a hard stop. Pregnancy is known from a
#   recorded status, a pregnancy code on the problem list (ICD-10 Z33.1, O00–O9A; SNOMED
#   77386006) or a positive hCG test.
#   Whether a patient who could be pregnant IS pregnant is often simply not recorded. The
#   service says so instead of assuming "not pregnant" [design]. "Could be pregnant" means female
#   or sex not recorded, aged 12 to 55 or age not recorded (a reviewable design choice). A
#   negative hCG test counts as "not pregnant" for 30 days [design, rules/terminology/labs.yaml].
#   Breastfeeding: naltrexone passes minimally into milk (relative infant dose about 1% at 5 mg a
#   day); it is not a reason to stop breastfeeding (LactMed; Chan 2004 J Hum Lact 20:322):
#   information.
#
#   LDN-PREG-001  warning  naltrexone ordered, patient is pregnant
#   LDN-PREG-002  info     naltrexone ordered, pregnancy status not documented, female or sex unknown, 12–55 or age unknown
#   LDN-LACT-001  info     naltrexone ordered, patient is breastfeeding

Feature: Pregnancy and breastfeeding are data gaps to document, not hard stops
  The pharmacist needs to know when a patient is pregnant, and when nobody has recorded whether
  she might be; breastfeeding is noted for information.

  Background:
    Given the evaluation date is 2026-11-23

  @pregnancy
  Scenario: A pregnant patient: risk–benefit discussion needed
    Given a 32-year-old female patient
    And she is pregnant (12 weeks by dates)
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-001 is raised with severity warning
    And alert LDN-PREG-001 mentions "12 weeks by dates"
    And alert LDN-PREG-002 is not raised
    And no other alert is raised

  @pregnancy
  Scenario Outline: Pregnancy recorded on the problem list (<code>)
    Given a 29-year-old female patient
    And her pregnancy status is not documented
    And the problem list is:
      | ICD-10 | condition   | status |
      | <code> | <condition> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-001 is raised with severity warning
    And alert LDN-PREG-002 is not raised

    Examples:
      | code    | condition                                            |
      | Z33.1   | Pregnant state, incidental                           |
      | O09.511 | Supervision of elderly primigravida, first trimester |
      | O21.0   | Mild hyperemesis gravidarum                          |

  @pregnancy
  Scenario: Pregnancy recorded as a SNOMED CT finding
    Given a 29-year-old female patient
    And the problem list is:
      | SNOMED CT | condition | status |
      | 77386006  | Pregnancy | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-001 is raised with severity warning

  @pregnancy
  Scenario: A positive pregnancy test
    Given a 27-year-old female patient
    And the lab results are:
      | test             | LOINC  | result   | taken      |
      | hCG, serum, qual | 2106-3 | positive | 2026-11-20 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-001 is raised with severity warning
    And alert LDN-PREG-001 mentions "positive on 2026-11-20"

  @pregnancy
  Scenario: A pregnancy that has ended is not a current pregnancy
    Given a 31-year-old female patient
    And she is not pregnant (delivered 2026-08-02)
    And the problem list is:
      | ICD-10 | condition                  | status   |
      | Z33.1  | Pregnant state, incidental | resolved |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-001 is not raised
    And no alert is raised

  @pregnancy
  Scenario: LDN for infertility in a patient documented as not pregnant
    Given a 34-year-old female patient
    And she is not pregnant (negative urine hCG 2026-11-21)
    And the problem list is:
      | ICD-10 | condition                       | status |
      | N97.9  | Female infertility, unspecified | active |
      | E28.2  | Polycystic ovarian syndrome     | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-001 is not raised
    And alert LDN-PREG-002 is not raised
    And no alert is raised

  @pregnancy
  Scenario: LDN for PCOS with no pregnancy status recorded: said, not assumed
    Given a 34-year-old female patient
    And her pregnancy status is not documented
    And the problem list is:
      | ICD-10 | condition                   | status |
      | E28.2  | Polycystic ovarian syndrome | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-002 is raised with severity info
    And alert LDN-PREG-001 is not raised
    And no other alert is raised

  @pregnancy
  Scenario Outline: Childbearing age range for the "status not documented" reminder (age <age>)
    Given a <age>-year-old female patient
    And her pregnancy status is not documented
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-002 is <outcome>

    Examples:
      | age | outcome    |
      | 11  | not raised |
      | 12  | raised     |
      | 45  | raised     |
      | 55  | raised     |
      | 56  | not raised |
      | 70  | not raised |

  @pregnancy
  Scenario: Age worked out from the date of birth
    Given a female patient born on 1990-11-24
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-002 is raised with severity info
    And alert LDN-PREG-002 mentions "age 35"

  @pregnancy
  Scenario: A woman whose age is not recorded could be pregnant
    Given a female patient whose age is not recorded
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-002 is raised with severity info

  @pregnancy
  Scenario: A patient whose sex is not recorded could be pregnant
    Given a 30-year-old patient whose sex is not recorded
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-002 is raised with severity info

  @pregnancy
  Scenario: A male patient is not asked about pregnancy
    Given a 30-year-old male patient
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-002 is not raised
    And alert LDN-PREG-001 is not raised
    And no alert is raised

  @pregnancy
  Scenario Outline: A negative pregnancy test counts for 30 days (taken <days> days ago)
    Given a 28-year-old female patient
    And her pregnancy status is not documented
    And the lab results are:
      | test                    | LOINC  | result   | taken   |
      | hCG, urine, qualitative | 2106-3 | negative | <taken> |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-002 is <outcome>
    And alert LDN-PREG-001 is not raised

    Examples:
      | taken      | days | outcome    |
      | 2026-11-20 | 3    | not raised |
      | 2026-10-24 | 30   | not raised |
      | 2026-10-23 | 31   | raised     |

  @pregnancy
  Scenario: Breastfeeding recorded: information, not a reason to stop breastfeeding
    Given a 33-year-old female patient
    And she is not pregnant (6 months postpartum)
    And she is breastfeeding
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-LACT-001 is raised with severity info
    And alert LDN-LACT-001 mentions "not a reason to stop breastfeeding"
    And no other alert is raised

  @pregnancy
  Scenario: Breastfeeding recorded on the problem list
    Given a 33-year-old female patient
    And she is not pregnant (6 months postpartum)
    And the problem list is:
      | ICD-10 | condition                                              | status |
      | Z39.1  | Encounter for care and examination of lactating mother | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-LACT-001 is raised with severity info

  @pregnancy
  Scenario: Breastfeeding that has ended
    Given a 33-year-old female patient
    And she is not pregnant (weaned 2026-06-01)
    And she is not breastfeeding
    And the problem list is:
      | ICD-10 | condition                                              | status   |
      | Z39.1  | Encounter for care and examination of lactating mother | resolved |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-LACT-001 is not raised
    And no alert is raised

  # ICD-10-CM Z3A.xx ("weeks of gestation of pregnancy") is coded only during a pregnancy.
  @pregnancy
  Scenario: Weeks of gestation on the problem list mean the patient is pregnant
    Given a 30-year-old female patient
    And the problem list is:
      | ICD-10 | condition                       | status |
      | Z3A.12 | 12 weeks gestation of pregnancy | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-PREG-001 is raised with severity warning
    And alert LDN-PREG-002 is not raised
