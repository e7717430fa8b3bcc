# CDC 2022 Recommendation 11 as the CDC opioid CDS implementation guide computes it
# (cqframework/opioid-cds-r4, OpioidCDSREC11PatientView 2022.1.0; ../shared/knowledge/cdc-rec11.md).
# Rule: rules/opioid-safety/rec11.yaml. Each scenario sends the chart to the opioid-safety
# patient-view service as an EHR would (FHIR R4 prefetch), evaluated on the day the Background names.

@opioid-safety
Feature: Opioids with benzodiazepines or other CNS depressants (CDC 2022 Recommendation 11)
  An adult with active community prescriptions for an opioid pain medicine and for a benzodiazepine
  or another CNS depressant gets a caution when the chart is opened, unless sickle cell disease,
  active cancer treatment, a condition likely to be terminal, or end of life applies.

  Background:
    Given the chart is opened on 2023-05-01
    And the patient was born on 1975-03-10

  Scenario: An opioid and a benzodiazepine prescribed together
    Given an active community prescription for RxNorm 1049502 (oxycodone 10 mg 12-hour tablet) written on 2023-03-31
    And an active community prescription for RxNorm 1298088 (flurazepam 15 mg capsule) written on 2023-05-01
    When the EHR opens the chart for the opioid safety check
    Then alert CDC-REC11-001 is raised
    And no other alert is raised

  Scenario: An opioid without a benzodiazepine or CNS depressant
    Given an active community prescription for RxNorm 1049502 (oxycodone 10 mg 12-hour tablet) written on 2023-03-31
    When the EHR opens the chart for the opioid safety check
    Then alert CDC-REC11-001 is not raised

  Scenario: A benzodiazepine without an opioid
    Given an active community prescription for RxNorm 1298088 (flurazepam 15 mg capsule) written on 2023-03-31
    When the EHR opens the chart for the opioid safety check
    Then alert CDC-REC11-001 is not raised

  Scenario Outline: Which prescriptions count: <case>
    Given an <opioid status> <opioid category> prescription for RxNorm 1049502 (oxycodone 10 mg 12-hour tablet) written on <opioid written>
    And an active community prescription for RxNorm <other> (<other name>) written on <other written>
    When the EHR opens the chart for the opioid safety check
    Then alert CDC-REC11-001 is <outcome>

    Examples:
      | case                                             | opioid status | opioid category | opioid written | other   | other name                       | other written | outcome    |
      | both written in the last two years               | active        | community       | 2021-05-01     | 1298088 | flurazepam 15 mg capsule         | 2021-05-01    | raised     |
      | the opioid written more than two years ago       | active        | community       | 2021-04-30     | 1298088 | flurazepam 15 mg capsule         | 2023-04-01    | not raised |
      | the benzodiazepine written more than two years ago | active      | community       | 2023-04-01     | 1298088 | flurazepam 15 mg capsule         | 2021-04-30    | not raised |
      | a CNS depressant counts whenever it was written  | active        | community       | 2023-04-01     | 854875  | zolpidem 10 mg tablet (Ambien)   | 2015-01-01    | raised     |
      | an opioid prescription that is completed         | completed     | community       | 2023-04-01     | 1298088 | flurazepam 15 mg capsule         | 2023-04-01    | not raised |
      | an outpatient (not community) opioid prescription | active       | outpatient      | 2023-04-01     | 1298088 | flurazepam 15 mg capsule         | 2023-04-01    | not raised |

  Scenario Outline: Who is left out: <case>
    Given an active community prescription for RxNorm 1049502 (oxycodone 10 mg 12-hour tablet) written on 2023-03-31
    And an active community prescription for RxNorm 1298088 (flurazepam 15 mg capsule) written on 2023-05-01
    And a <category> condition <system> <code> (<name>) that is <status>
    When the EHR opens the chart for the opioid safety check
    Then alert CDC-REC11-001 is <outcome>

    Examples:
      | case                                       | category           | system     | code      | name                                      | status   | outcome    |
      | sickle cell disease, whatever its status   | problem-list       | ICD-10-CM  | D57.00    | Hb-SS disease with crisis                 | resolved | not raised |
      | active cancer on the problem list          | problem-list       | ICD-10-CM  | C50.911   | malignant neoplasm of right breast        | active   | not raised |
      | cancer on the problem list in remission    | problem-list       | ICD-10-CM  | C50.911   | malignant neoplasm of right breast        | inactive | raised     |
      | a condition likely to be terminal          | encounter-diagnosis | SNOMED CT | 700423003 | adenocarcinoma of pancreas                | resolved | not raised |
      | terminal illness (limited life expectancy) | problem-list       | SNOMED CT  | 300936002 | terminal illness                          | active   | not raised |
      | a condition without a US Core category     | uncategorized      | ICD-10-CM  | D57.00    | Hb-SS disease with crisis                 | active   | raised     |

  Scenario: A hospice discharge in the last year is end of life
    Given an active community prescription for RxNorm 1049502 (oxycodone 10 mg 12-hour tablet) written on 2023-03-31
    And an active community prescription for RxNorm 1298088 (flurazepam 15 mg capsule) written on 2023-05-01
    And a finished encounter on 2022-12-01 discharged to hospice
    When the EHR opens the chart for the opioid safety check
    Then alert CDC-REC11-001 is not raised

  Scenario Outline: Age: <case>
    Given <birth>
    And an active community prescription for RxNorm 1049502 (oxycodone 10 mg 12-hour tablet) written on 2023-03-31
    And an active community prescription for RxNorm 1298088 (flurazepam 15 mg capsule) written on 2023-05-01
    When the EHR opens the chart for the opioid safety check
    Then alert CDC-REC11-001 is <outcome>

    Examples:
      | case                                  | birth                                      | outcome    |
      | 18 today                              | the patient was born on 2005-05-01         | raised     |
      | 17, 18 tomorrow                       | the patient was born on 2005-05-02         | not raised |
      | no birth date: not known to be adult  | the patient's birth date is not recorded   | not raised |
