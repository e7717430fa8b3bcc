# Transplant and immunosuppression — rules/immunosuppression.yaml (LDN-IMM-001, LDN-IMM-002)
#
# What the rules say, in plain words:
#   LDN is listed as contraindicated in patients with an organ transplant and in patients on
#   immunosuppressive medication (seed:001). There is no FDA label source and no published
#   rejection report: the concern is theoretical, so this is a strong warning with a documented
#   override, not a hard stop [practice]. The drugs are the transplant-type immunosuppressants —
#   calcineurin inhibitors (tacrolimus, ciclosporin), mTOR inhibitors (sirolimus, everolimus),
#   mycophenolate, azathioprine, belatacept — not all of ATC L04A. Transplant status: ICD-10
#   Z94.x, SNOMED CT 161665007.
#   Corticosteroids do not trigger it: LDN "does not directly interact with steroids" (seed:004).
#
#   LDN-IMM-001  warning  naltrexone ordered for a transplant recipient
#   LDN-IMM-002  warning  naltrexone + active transplant-type immunosuppressant

Feature: Transplant recipients and immunosuppressants
  The pharmacist must see when LDN is ordered for a transplant recipient or a patient on a
  transplant-type immunosuppressant, and must not be alerted for steroids.

  Background:
    Given the evaluation date is 2026-11-23
    And a 58-year-old male patient

  @immunosuppression
  Scenario Outline: LDN for a transplant recipient (<condition>)
    Given the problem list is:
      | ICD-10 | condition   | status |
      | <code> | <condition> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-IMM-001 is raised with severity warning
    And alert LDN-IMM-001 mentions "<condition>"

    Examples:
      | code  | condition                |
      | Z94.0 | Kidney transplant status |
      | Z94.4 | Liver transplant status  |
      | Z94.1 | Heart transplant status  |

  @immunosuppression
  Scenario: Transplant recorded as a SNOMED CT finding
    Given the problem list is:
      | SNOMED CT | condition                   | status |
      | 161665007 | History of renal transplant | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-IMM-001 is raised with severity warning

  @immunosuppression
  Scenario: A kidney donor is not a transplant recipient
    Given the problem list is:
      | ICD-10 | condition    | status |
      | Z52.4  | Kidney donor | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-IMM-001 is not raised
    And no alert is raised

  @immunosuppression
  Scenario Outline: LDN with a transplant-type immunosuppressant (<medication>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-IMM-002 is raised with severity warning

    Examples:
      | medication                                |
      | tacrolimus 2 mg twice daily               |
      | Prograf 1 mg every 12 hours               |
      | cyclosporine 100 mg twice daily           |
      | Neoral 100 mg twice daily                 |
      | mycophenolate mofetil 1000 mg twice daily |
      | CellCept 500 mg 2 tablets twice daily     |
      | Myfortic 720 mg twice daily               |
      | sirolimus 2 mg daily                      |
      | everolimus 0.75 mg twice daily            |
      | azathioprine 50 mg daily                  |

  @immunosuppression
  Scenario: A kidney transplant recipient on tacrolimus and prednisone
    Given the problem list is:
      | ICD-10 | condition                | status |
      | Z94.0  | Kidney transplant status | active |
    And the medication list is:
      | medication                    | status |
      | tacrolimus 2 mg twice daily   | active |
      | prednisone 5 mg every morning | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-IMM-001 is raised with severity warning
    And alert LDN-IMM-002 is raised with severity warning
    And alert LDN-IMM-002 mentions "tacrolimus"
    And no other alert is raised

  @immunosuppression
  Scenario Outline: Corticosteroids do not trigger the immunosuppression alert (<medication>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-IMM-002 is not raised
    And no alert is raised

    Examples:
      | medication                       |
      | prednisone 10 mg daily           |
      | Medrol 4 mg daily                |
      | budesonide 9 mg daily            |
      | hydrocortisone 10 mg twice daily |

  @immunosuppression
  Scenario: An immunosuppressant that was stopped
    Given the medication list is:
      | medication               | status  | stopped on |
      | azathioprine 50 mg daily | stopped | 2026-01-15 |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-IMM-002 is not raised
    And no alert is raised

  @immunosuppression
  Scenario Outline: Topical calcineurin inhibitors are not systemic immunosuppression (<medication>)
    Given the medication list is:
      | medication   | status |
      | <medication> | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-IMM-002 is not raised

    Examples:
      | medication                               |
      | tacrolimus 0.1% ointment twice daily     |
      | cyclosporine 0.05% eye drops twice daily |

  # The other way round: an immunosuppressant ordered for a patient already on LDN (LDN-IMM-003).
  @immunosuppression
  Scenario: Tacrolimus ordered for a patient on LDN
    Given the medication list is:
      | medication            | status |
      | LDN 3 mg at bedtime   | active |
    When "tacrolimus 1 mg twice daily" is ordered
    Then alert LDN-IMM-003 is raised with severity warning

  @immunosuppression
  Scenario Outline: No immunosuppression alert for a steroid or a skin preparation ordered on LDN (<order>)
    Given the medication list is:
      | medication            | status |
      | LDN 3 mg at bedtime   | active |
    When "<order>" is ordered
    Then alert LDN-IMM-003 is not raised

    Examples:
      | order                                |
      | prednisone 10 mg daily               |
      | tacrolimus 0.1% ointment twice daily |
