# Liver — rules/hepatic.yaml (LDN-HEP-001 to LDN-HEP-004)
#
# What the rules say, in plain words:
#   For LDN, baseline liver tests are not required, but advanced liver failure needs a
#   consultation with the GP or specialist first, and monitoring during initiation; a transient
#   rise in liver enzymes is usual and settles within weeks (seed:004). In decompensated
#   cirrhosis, oral naltrexone exposure rose about 8-fold (Bertolotti 1997 J Hepatol 27:505).
#   Standard (addiction) doses, 50–300 mg a day, can injure the liver: the hepatotoxic margin is
#   "five-fold or less", and some tablet labels list acute hepatitis and liver failure as
#   contraindications [label: naltrexone]. Liver function tests are required before starting
#   standard doses (seed:004) — the rule asks for an ALT within 90 days (design choice).
#   ALT or AST at 3 times the upper limit of normal or more (the laboratory's own upper limit
#   when given, otherwise 40 U/L) calls for a review before any naltrexone dose (design choice).
#   Codes: hepatic failure K72.x, alcoholic hepatic failure K70.4x, cirrhosis K70.3x, K74.3–K74.6.
#
#   LDN-HEP-001  warning   naltrexone up to 25 mg/day + liver failure or cirrhosis
#   LDN-HEP-002  critical  standard-dose naltrexone + liver failure, cirrhosis or acute hepatitis
#   LDN-HEP-003  warning   naltrexone + latest ALT or AST ≥ 3 × upper limit of normal
#   LDN-HEP-004  warning   standard-dose naltrexone without an ALT in the last 90 days

Feature: Liver disease and liver tests before naltrexone
  Low doses need a specialist's word in liver failure; standard doses need recent liver tests and
  are contraindicated on some labels in acute hepatitis or liver failure.

  Background:
    Given the evaluation date is 2026-11-23
    And a 61-year-old male patient

  @hepatic
  Scenario Outline: LDN for a patient with cirrhosis or liver failure: consult first (<code>)
    Given the problem list is:
      | ICD-10 | condition   | status |
      | <code> | <condition> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-HEP-001 is raised with severity warning
    And alert LDN-HEP-001 mentions "<condition>"
    And alert LDN-HEP-002 is not raised

    Examples:
      | code   | condition                                    |
      | K70.30 | Alcoholic cirrhosis of liver without ascites |
      | K74.60 | Unspecified cirrhosis of liver               |
      | K72.10 | Chronic hepatic failure without coma         |
      | K70.40 | Alcoholic hepatic failure without coma       |

  @hepatic
  Scenario: Fatty liver disease is not liver failure
    Given the problem list is:
      | ICD-10 | condition                                         | status |
      | K76.0  | Fatty (change of) liver, not elsewhere classified | active |
      | K75.81 | Nonalcoholic steatohepatitis (NASH)               | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-HEP-001 is not raised
    And no alert is raised

  @hepatic
  Scenario Outline: Standard-dose naltrexone with liver disease is contraindicated on some labels (<code>)
    Given the problem list is:
      | ICD-10 | condition   | status |
      | <code> | <condition> | active |
    And the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 38    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "ReVia 50 mg once daily"
    Then alert LDN-HEP-002 is raised with severity critical
    And alert LDN-HEP-001 is not raised

    Examples:
      | code   | condition                                    |
      | K70.30 | Alcoholic cirrhosis of liver without ascites |
      | K72.10 | Chronic hepatic failure without coma         |
      | B16.9  | Acute hepatitis B                            |
      | B17.10 | Acute hepatitis C without hepatic coma       |

  @hepatic
  Scenario: Standard-dose naltrexone for alcohol dependence with a healthy liver
    Given the problem list is:
      | ICD-10 | condition                         | status |
      | F10.20 | Alcohol dependence, uncomplicated | active |
    And the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 38    | U/L  | 2026-11-10 |
      | AST  | 1920-8 | 35    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "ReVia 50 mg once daily"
    Then alert LDN-HEP-002 is not raised
    And no alert is raised

  @hepatic
  Scenario Outline: Liver enzymes against the upper limit of normal (<test> <value>, <multiple> × ULN)
    Given the lab results are:
      | test   | LOINC   | value   | unit | upper limit   | taken      |
      | <test> | <LOINC> | <value> | U/L  | <upper limit> | 2026-11-10 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-HEP-003 is <outcome>

    Examples:
      | test | LOINC  | value | upper limit | multiple | outcome    |
      | ALT  | 1742-6 | 119   |             | 2.98     | not raised |
      | ALT  | 1742-6 | 120   |             | 3        | raised     |
      | AST  | 1920-8 | 160   |             | 4        | raised     |
      | ALT  | 1742-6 | 98    | 33          | 2.97     | not raised |
      | ALT  | 1742-6 | 99    | 33          | 3        | raised     |
      | AST  | 1920-8 | 250   | 50          | 5        | raised     |

  @hepatic
  Scenario: The alert states the multiple of the upper limit
    Given the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 160   | U/L  | 2026-11-10 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-HEP-003 is raised with severity warning
    And alert LDN-HEP-003 mentions "4× the upper limit"

  @hepatic
  Scenario: Only the latest liver test counts
    Given the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 210   | U/L  | 2026-09-01 |
      | ALT  | 1742-6 | 35    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-HEP-003 is not raised
    And no alert is raised

  @hepatic
  Scenario: Standard-dose naltrexone with no liver tests on record
    When naltrexone is ordered as "ReVia 50 mg once daily"
    Then alert LDN-HEP-004 is raised with severity warning
    And alert LDN-HEP-004 mentions "baseline liver tests are required"

  @hepatic
  Scenario Outline: How recent the baseline ALT must be for standard doses (<days> days old)
    Given the lab results are:
      | test | LOINC  | value | unit | taken   |
      | ALT  | 1742-6 | 31    | U/L  | <taken> |
    When naltrexone is ordered as "ReVia 50 mg once daily"
    Then alert LDN-HEP-004 is <outcome>

    Examples:
      | taken      | days | outcome    |
      | 2026-11-10 | 13   | not raised |
      | 2026-08-26 | 89   | not raised |
      | 2026-08-25 | 90   | not raised |
      | 2026-08-24 | 91   | raised     |

  @hepatic
  Scenario: An AST alone is not the baseline ALT
    Given the lab results are:
      | test | LOINC  | value | unit | taken      |
      | AST  | 1920-8 | 30    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "Vivitrol 380 mg IM every 4 weeks"
    Then alert LDN-HEP-004 is raised with severity warning

  @hepatic
  Scenario: LDN does not need baseline liver tests
    When naltrexone is ordered as "LDN 4.5 mg at bedtime"
    Then alert LDN-HEP-004 is not raised
    And no hepatic alert is raised

  # K72.0x is hepatic failure (K72), not acute hepatitis: LDN-HEP-001 must see it.
  @hepatic
  Scenario: LDN for a patient in acute liver failure: consult first
    Given the problem list is:
      | ICD-10 | condition                                       | status |
      | K72.00 | Acute and subacute hepatic failure without coma | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-HEP-001 is raised with severity warning

  @hepatic
  Scenario: Chronic hepatitis C without liver failure is not acute hepatitis
    Given the problem list is:
      | ICD-10 | condition                 | status |
      | B18.2  | Chronic viral hepatitis C | active |
    And the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 38    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "ReVia 50 mg once daily"
    Then alert LDN-HEP-002 is not raised
