"""`/v1/taper` and `/v1/titration` through the HTTP API."""

from __future__ import annotations

from flask.testing import FlaskClient

OXYCODONE = {"drug": "oxycodone", "dose": {"value": 30, "unit": "mg"}, "frequency": "every 8 hours"}


def test_a_long_term_oxycodone_taper_starts_at_135_mme_and_goes_down_monthly(client: FlaskClient) -> None:
    plan = client.post("/v1/taper", json={"start": "2026-12-01", "yearsOfUse": 3, "regimen": [OXYCODONE],
                                          "uldn": True}).get_json()
    assert plan["startMme"] == 135
    steps = plan["steps"]
    assert [s["totalMme"] for s in steps[:3]] == [135, 123.75, 112.5]
    assert steps[1]["date"] == "2026-12-29"  # about a month after the start
    assert all(later["totalMme"] < earlier["totalMme"] for earlier, later in zip(steps, steps[1:]))
    assert steps[-1]["totalMme"] == 0
    assert all(s["uldn"] == "naltrexone 1 µg twice daily" for s in steps)
    assert plan["factors"][0] == {"ingredient": "oxycodone", "factor": 1.5, "per": "mg/day", "source": "CDC 2022",
                                  "version": "3.0.0"}


def test_a_brand_name_and_a_patch_are_read(client: FlaskClient) -> None:
    plan = client.post("/v1/taper", json={"start": "2026-12-01", "yearsOfUse": 0.25, "regimen": [
        {"drug": "Percocet", "dose": {"value": 10, "unit": "mg"}, "frequency": "q6h"},
        {"drug": "fentanyl", "dose": {"value": 25, "unit": "mcg/h"}, "form": "patch"}]}).get_json()
    assert plan["startMme"] == 10 * 4 * 1.5 + 25 * 2.4


def test_buprenorphine_and_unknown_drugs_are_refused_with_the_reason(client: FlaskClient) -> None:
    refused = client.post("/v1/taper", json={"start": "2026-12-01", "yearsOfUse": 2, "regimen": [
        {"drug": "Suboxone", "dose": {"value": 8, "unit": "mg"}}]})
    assert refused.status_code == 400 and "excludes buprenorphine" in refused.get_json()["errors"]["regimen"][0]
    unknown = client.post("/v1/taper", json={"start": "2026-12-01", "yearsOfUse": 2, "regimen": [
        {"drug": "Zorblax", "dose": {"value": 8, "unit": "mg"}}]})
    assert unknown.status_code == 400 and "regimen[0].drug" in unknown.get_json()["errors"]


def test_a_proposed_taper_that_is_too_fast_is_said_step_by_step(client: FlaskClient) -> None:
    answer = client.post("/v1/taper", json={"start": "2026-12-01", "yearsOfUse": 3, "regimen": [OXYCODONE],
                                            "proposed": [{"date": "2026-12-01", "totalMme": 135},
                                                         {"date": "2026-12-08", "totalMme": 90}]}).get_json()
    assert answer["acceptable"] is False
    assert answer["problems"][0].startswith("step 2 (2026-12-08, 90 MME/day): too fast")


def test_the_seed_titration_starts_at_1_5_mg_for_four_weeks(client: FlaskClient) -> None:
    plan = client.post("/v1/titration", json={"start": "2026-12-01"}).get_json()
    first = plan["steps"][0]
    assert (first["start"], first["end"], first["doseMg"]) == ("2026-12-01", "2026-12-28", 1.5)
    assert first["dispense"] == "1 × 1.5 mg capsule at bedtime"
    assert plan["steps"][-1]["doseMg"] == 4.5


def test_a_titration_above_the_usual_maximum_needs_to_be_asked_for(client: FlaskClient) -> None:
    refused = client.post("/v1/titration", json={"start": "2026-12-01", "targetMg": 6})
    assert refused.status_code == 400
    allowed = client.post("/v1/titration", json={"start": "2026-12-01", "targetMg": 6, "allowAboveUsualMax": True})
    assert allowed.status_code == 200 and allowed.get_json()["steps"][-1]["doseMg"] == 6


def test_side_effects_halve_the_dose_for_a_week(client: FlaskClient) -> None:
    plan = client.post("/v1/titration", json={"start": "2026-12-01", "protocol": "practice-weekly",
                                              "adjustments": [{"kind": "side-effects", "on": "2026-12-10"}]}).get_json()
    halved = [s for s in plan["steps"] if s["note"] and "halved" in s["note"]]
    assert halved and halved[0]["start"] == "2026-12-10" and halved[0]["doseMg"] == 0.5
