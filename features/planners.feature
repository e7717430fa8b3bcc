# Planners — cds/planners (POST /v1/taper and POST /v1/titration)
#
# What the planners do, in plain words a pharmacist can check by hand:
#
#   Opioid taper with ULDN (weaning) — CDC 2022 Recommendation 5; seed:004
#   - The day's opioid load is counted in morphine milligram equivalents (MME) with the CDC 2022
#     factors: MME a day = dose per administration × administrations a day × factor. Oxycodone
#     1.5 (30 mg every 8 hours = 90 mg a day = 135 MME), morphine 1, hydrocodone 1, tramadol 0.2,
#     methadone 4.7 (one factor only; methadone tapers need specialist care), fentanyl patches
#     2.4 per µg/h (25 µg/h = 60 MME).
#   - Buprenorphine is excluded from MME by CDC 2022 (a partial agonist, its MME does not reflect
#     its risk): the planner refuses it and says why; its taper is planned with the prescriber.
#   - One year or more of use: about 10% of the CURRENT dose a month (a "month" is 28 days, whole
#     packs). Less than a year: 10% of the ORIGINAL dose a week until about 30% remains, then 10%
#     of what remains a week. Never faster: when the smallest dispensable step down is more than
#     one interval allows, the dose is held for more intervals, so the first step down may come
#     28 days after the start or a whole number of 28-day intervals later.
#   - Doses are rounded to what can be dispensed (tablet strengths, halves of scored tablets,
#     patch strengths); rounding may leave up to 2.5% more than the target, never less than the
#     rate allows. An opioid at its lowest dispensable dose is stopped only when that fits within the
#     rate; while another opioid can still be reduced, that one is reduced instead, and otherwise the
#     stop is held whole intervals. Only the final stop (the last opioid, from its lowest dose) may
#     take off more than the rate. The exact tablets of each step are left to the plan's rounding rule (not
#     repeated here), because they follow the stock of strengths.
#   - A taper never goes up, ends at 0 MME a day (the last opioid stopped from its lowest
#     dispensable dose), shows each step's date, each opioid's dose, total MME and % of the start,
#     and books follow-up at least monthly. ULDN (naltrexone 1 µg twice daily, seed:004) is listed
#     alongside every step when it is prescribed.
#   - A clinician's proposed taper (dates and total MME a day) is checked step by step, pro rata
#     for the days between steps, and each step that is too fast or goes up is named.
#
#   LDN titration — seed:001 ("start low and go slow", seed:000)
#   - Seed protocol "seed-001-4-weeks": 1.5 mg at bedtime for 4 weeks, then 3 mg for 4 weeks,
#     then 4.5 mg (seed:001). Practice protocol "practice-weekly": 0.5 mg at bedtime, 0.5 mg more
#     each week up to 4.5 mg.
#   - What to dispense: a capsule of the step's strength, or mL of the 1 mg/mL liquid (1.5 mg =
#     1.5 mL), or drops of the 1 mg/mL solution under the tongue (seed:004).
#   - Side effects: the dose is halved for 7 days, then the schedule resumes. Sleep disturbance
#     (vivid dreams, insomnia): the dose moves to the morning. GI effects: the dose is held at the
#     best-tolerated dose and sublingual drops are suggested.
#   - 4.5 mg is the usual maximum: a higher target is refused unless the prescriber asks for it
#     deliberately.

Feature: Plans a pharmacist can check by hand — opioid taper with ULDN, and LDN titration
  Alerts say what is wrong; the planners say what to do, date by date, with doses that can be
  dispensed and figures a pharmacist can recompute with a calculator.

  @taper
  Scenario Outline: <drug> <dose> <unit> <frequency> for 3 years starts at <mme> MME a day and goes down about 10% a month
    Given a taper planned from 2026-12-01 after 3 years of daily opioid use
    And the current opioid is <drug> <dose> <unit> <frequency> as a <form>
    And ULDN is prescribed alongside the taper
    When the taper is planned
    Then the starting dose is <mme> MME a day
    And <drug> counts <factor> MME per <per> (CDC 2022)
    And the first step down comes 28 days after the start or a whole number of 28-day intervals later
    And the first step down takes off at most 10% of the starting dose for each 28 days since the start, give or take 2.5% for rounding
    And every step is dated a whole number of 28-day intervals after the one before
    And every reduction before the final stop takes off at most 10% of the dose before it for each 28 days, give or take 2.5% for rounding
    And no step raises the total MME
    And the last step is 0 MME a day with every opioid stopped
    And every step shows its date, each opioid's dose, the total MME and the percentage of the starting dose
    And follow-up is booked at least every 28 days until after the last step
    And every step lists ULDN "naltrexone 1 µg twice daily" alongside

    Examples: oral tablets and a patch (MME = mg a day × factor; patch: µg/h × 2.4)
      | drug        | dose | unit  | frequency      | form   | factor | per    | mme |
      | oxycodone   | 30   | mg    | every 8 hours  | tablet | 1.5    | mg/day | 135 |
      | morphine    | 30   | mg    | twice daily    | tablet | 1      | mg/day | 60  |
      | hydrocodone | 10   | mg    | every 6 hours  | tablet | 1      | mg/day | 40  |
      | tramadol    | 50   | mg    | every 6 hours  | tablet | 0.2    | mg/day | 40  |
      | fentanyl    | 25   | mcg/h | every 72 hours | patch  | 2.4    | mcg/h  | 60  |
      | methadone   | 10   | mg    | three times daily | tablet | 4.7 | mg/day | 141 |

  @taper
  Scenario: Methadone is counted with the single CDC factor and sent to specialist care
    Given a taper planned from 2026-12-01 after 3 years of daily opioid use
    And the current opioid is methadone 10 mg three times daily as a tablet
    When the taper is planned
    Then the starting dose is 141 MME a day
    And the plan notes say "methadone tapers need specialist care"
    And no step lists ULDN

  @taper
  Scenario Outline: Less than a year of <drug>: 10% of the original dose a week
    Given a taper planned from 2026-12-01 after <years> years of daily opioid use
    And the current opioid is <drug> <dose> mg <frequency> as a tablet
    And ULDN is not prescribed alongside the taper
    When the taper is planned
    Then the starting dose is <mme> MME a day
    And the first step down comes 7 days after the start or a whole number of 7-day intervals later
    And the first step down takes off at most 10% of the starting dose for each 7 days since the start, give or take 2.5% for rounding
    And every step is dated a whole number of 7-day intervals after the one before
    And no step raises the total MME
    And the last step is 0 MME a day with every opioid stopped
    And no step lists ULDN

    Examples: short-term use (10% of the start a week = <mme> ÷ 10 MME a day less each week)
      | drug      | dose | frequency     | years | mme |
      | oxycodone | 10   | every 6 hours | 0.25  | 60  |
      | morphine  | 30   | twice daily   | 0.5   | 60  |
      | tramadol  | 50   | every 6 hours | 0.75  | 40  |

  @taper
  Scenario: Two opioids are added up and tapered to zero
    Given a taper planned from 2026-12-01 after 2 years of daily opioid use
    And the current opioids are:
      | drug      | dose | unit  | frequency      | form   |
      | Percocet  | 10   | mg    | every 6 hours  | tablet |
      | fentanyl  | 25   | mcg/h | every 72 hours | patch  |
    And ULDN is prescribed alongside the taper
    When the taper is planned
    Then the starting dose is 120 MME a day
    And oxycodone counts 1.5 MME per mg/day (CDC 2022)
    And fentanyl counts 2.4 MME per mcg/h (CDC 2022)
    And every reduction before the final stop takes off at most 10% of the dose before it for each 28 days, give or take 2.5% for rounding
    And no step raises the total MME
    And the last step is 0 MME a day with every opioid stopped
    And every step shows its date, each opioid's dose, the total MME and the percentage of the starting dose

  @taper
  Scenario Outline: <drug> cannot be tapered by MME and the planner says why
    Given a taper planned from 2026-12-01 after 2 years of daily opioid use
    And the current opioid is <drug> 8 mg once daily as a film
    When the taper is planned
    Then the planner refuses because "CDC 2022 excludes buprenorphine from MME calculations"

    Examples:
      | drug          |
      | buprenorphine |
      | Suboxone      |

  @taper
  Scenario Outline: A clinician's proposed taper that is too fast is named at the right step
    Given a taper planned from 2026-12-01 after <years> years of daily opioid use
    And the current opioid is oxycodone 30 mg every 8 hours as a tablet
    And the clinician proposes this taper:
      | date       | total MME a day |
      | 2026-12-01 | 135             |
      | <day 2>    | <mme 2>         |
      | <day 3>    | <mme 3>         |
    When the proposed taper is checked
    Then the proposed taper is <verdict>

    Examples: 3 years of use, 10% of the current dose a month (135 → 121.5 → 109.35)
      | years | day 2      | mme 2 | day 3      | mme 3 | verdict    |
      | 3     | 2026-12-29 | 121.5 | 2027-01-26 | 109.5 | acceptable |

  @taper
  Scenario Outline: <why>
    Given a taper planned from 2026-12-01 after <years> years of daily opioid use
    And the current opioid is oxycodone 30 mg every 8 hours as a tablet
    And the clinician proposes this taper:
      | date       | total MME a day |
      | 2026-12-01 | 135             |
      | <day 2>    | <mme 2>         |
      | <day 3>    | <mme 3>         |
    When the proposed taper is checked
    Then the proposed taper is not acceptable
    And step <step> of the proposal is flagged as <problem>
    And only step <step> of the proposal is flagged

    Examples:
      | why                                                        | years | day 2      | mme 2 | day 3      | mme 3 | step | problem     |
      | 3 years: a third off in the second month is too fast       | 3     | 2026-12-29 | 121.5 | 2027-01-26 | 90    | 3    | too fast    |
      | 3 years: 20% off in the first week is too fast             | 3     | 2026-12-08 | 108   | 2027-01-05 | 100   | 2    | too fast    |
      | 3 years: going back up is never a taper                    | 3     | 2026-12-29 | 121.5 | 2027-01-26 | 130   | 3    | an increase |
      | 3 months: 10% of the start a week, then 40% in a week      | 0.25  | 2026-12-08 | 121.5 | 2026-12-15 | 67.5  | 3    | too fast    |

  @titration
  Scenario Outline: The seed protocol — 1.5 mg at bedtime for 4 weeks, up to 4.5 mg, dispensed as <formulation>
    Given an LDN titration starting on 2026-12-01
    And the titration follows the "seed-001-4-weeks" protocol
    And LDN is dispensed as <formulation>
    When the titration is planned
    Then step 1 is 1.5 mg at bedtime from 2026-12-01 to 2026-12-28
    And step 1 dispenses "<first>"
    And step 2 is 3 mg at bedtime from 2026-12-29 to 2027-01-25
    And step 3 is 4.5 mg at bedtime from 2027-01-26 to 2027-02-22
    And step 3 dispenses "<last>"
    And the titration reaches 4.5 mg and never goes above it

    Examples: 1 mg/mL: mL = mg; 20 drops per mL: drops = mg × 20
      | formulation                                 | first                    | last                     |
      | capsules                                    | 1 × 1.5 mg capsule       | 1 × 4.5 mg capsule       |
      | liquid of 1 mg/mL                           | 1.5 mL of 1 mg/mL liquid | 4.5 mL of 1 mg/mL liquid |
      | drops of 1 mg/mL with 20 drops per mL       | 30 drops                 | 90 drops                 |

  @titration
  Scenario: Practice protocol — 0.5 mg more each week up to 4.5 mg
    Given an LDN titration starting on 2026-12-01
    And the titration follows the "practice-weekly" protocol
    When the titration is planned
    Then step 1 is 0.5 mg at bedtime from 2026-12-01 to 2026-12-07
    And each step is 0.5 mg above the one before and lasts 7 days
    And step 9 is 4.5 mg at bedtime from 2027-01-26 to 2027-02-01
    And the titration reaches 4.5 mg and never goes above it

  @titration
  Scenario Outline: Side effects on <day> — <dose> mg halved to <halved> mg for 7 days, then resumed
    Given an LDN titration starting on 2026-12-01
    And the titration follows the "<protocol>" protocol
    And the patient reports side effects on <day>
    When the titration is planned
    Then from <day> the dose is <halved> mg for 7 days, then <dose> mg again
    And the titration reaches 4.5 mg and never goes above it

    Examples:
      | protocol         | day        | dose | halved |
      | practice-weekly  | 2026-12-10 | 1    | 0.5    |
      | seed-001-4-weeks | 2027-01-05 | 3    | 1.5    |

  @titration
  Scenario: Sleep disturbance moves the dose to the morning
    Given an LDN titration starting on 2026-12-01
    And the titration follows the "practice-weekly" protocol
    And the patient reports sleep disturbance on 2026-12-10
    When the titration is planned
    Then step 3 is 1 mg in the morning from 2026-12-10 to 2026-12-14
    And from 2026-12-10 every dose is taken in the morning
    And the titration reaches 4.5 mg and never goes above it

  @titration
  Scenario: GI effects hold the best-tolerated dose and suggest sublingual drops
    Given an LDN titration starting on 2026-12-01
    And the titration follows the "practice-weekly" protocol
    And the patient reports GI effects on 2026-12-10
    When the titration is planned
    Then from 2026-12-10 the dose is held at 1 mg to the end of the plan
    And the titration never goes above 1 mg
    And the plan notes say "Sublingual drops"

  @titration
  Scenario Outline: A target of <target> mg is above the usual 4.5 mg maximum
    Given an LDN titration starting on 2026-12-01
    And the target dose is <target> mg
    When the titration is planned
    Then the planner refuses because "above the usual LDN maximum of 4.5 mg"

    Examples:
      | target |
      | 6      |
      | 9      |

  @titration
  Scenario: A target above 4.5 mg is planned when the prescriber asks for it deliberately
    Given an LDN titration starting on 2026-12-01
    And the target dose is 6 mg and the prescriber asks for it deliberately
    When the titration is planned
    Then the titration reaches 6 mg and never goes above it
