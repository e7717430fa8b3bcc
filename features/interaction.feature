# Drug interactions named in naltrexone labelling — rules/interaction.yaml (LDN-INT-001, LDN-INT-002)
#
# What the rules say, in plain words:
#   Lethargy and somnolence were reported when naltrexone was given with thioridazine
#   [label: naltrexone, drug interactions]: warning, warn the patient about drowsiness.
#   Disulfiram and naltrexone are both potentially hepatotoxic; the combination is not
#   recommended unless the benefits outweigh the risks [label: naltrexone]: warning, monitor
#   liver tests. Only active medicines count; other antipsychotics and other alcohol-use-disorder
#   treatments are not named by the label.
#
#   LDN-INT-001  warning  naltrexone + active thioridazine
#   LDN-INT-002  warning  naltrexone + active disulfiram

Feature: Interactions named in naltrexone labelling
  The pharmacist must see the two interactions the label names, and nothing for medicines it
  does not name.

  Background:
    Given the evaluation date is 2026-11-23
    And a 49-year-old male patient

  @interaction
  Scenario Outline: Naltrexone with thioridazine: drowsiness (<medication>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-INT-001 is raised with severity warning
    And alert LDN-INT-002 is not raised

    Examples:
      | medication                           |
      | thioridazine 50 mg three times daily |
      | Mellaril 25 mg twice daily           |

  @interaction
  Scenario: Another antipsychotic is not the labelled thioridazine interaction
    Given the medication list is:
      | medication                  | status |
      | olanzapine 10 mg at bedtime | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-INT-001 is not raised
    And no alert is raised

  @interaction
  Scenario: Thioridazine that was stopped
    Given the medication list is:
      | medication                           | status  | stopped on |
      | thioridazine 50 mg three times daily | stopped | 2026-10-01 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-INT-001 is not raised
    And no alert is raised

  @interaction
  Scenario Outline: Naltrexone with disulfiram: both potentially hepatotoxic (<medication>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    And the lab results are:
      | test | LOINC  | value | unit | taken      |
      | ALT  | 1742-6 | 30    | U/L  | 2026-11-10 |
    When naltrexone is ordered as "<order>"
    Then alert LDN-INT-002 is raised with severity warning
    And alert LDN-INT-001 is not raised

    Examples:
      | medication                   | order                  |
      | disulfiram 250 mg once daily | LDN 1.5 mg at bedtime  |
      | Antabuse 250 mg daily        | LDN 1.5 mg at bedtime  |
      | Antabuse 250 mg daily        | ReVia 50 mg once daily |

  @interaction
  Scenario: Disulfiram that was stopped
    Given the medication list is:
      | medication            | status  | stopped on |
      | Antabuse 250 mg daily | stopped | 2026-09-01 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-INT-002 is not raised
    And no alert is raised

  # The same interactions the other way round: the interacting drug is ordered for a patient who
  # already takes naltrexone (LDN-INT-003, LDN-INT-004).
  @interaction
  Scenario Outline: An interacting drug ordered for a patient on LDN (<order>)
    Given the medication list is:
      | medication            | status |
      | LDN 4.5 mg at bedtime | active |
    When "<order>" is ordered
    Then alert <rule> is raised with severity warning

    Examples:
      | order                        | rule        |
      | thioridazine 25 mg bid       | LDN-INT-003 |
      | disulfiram 250 mg once daily | LDN-INT-004 |

  @interaction
  Scenario: An interacting drug ordered after LDN was stopped
    Given the medication list is:
      | medication            | status  | stopped on |
      | LDN 4.5 mg at bedtime | stopped | 2026-08-01 |
    When "disulfiram 250 mg once daily" is ordered
    Then alert LDN-INT-004 is not raised
    And alert LDN-INT-003 is not raised
    And no alert is raised
