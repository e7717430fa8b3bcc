"""cds.terminology: names, RxNorm codes, condition codes and LOINC codes, read from rules/terminology/."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from cds.exceptions import TerminologyError
from cds.terminology import ICD10, LOINC, RXNORM, SNOMED, TERMINOLOGY_DIR, Terminology, canonical_system

TERMINOLOGY = Terminology.load()


def names(text: str) -> list[str]:
    """What each name found in `text` means: an ingredient or a product."""
    return [hit.product.name if hit.product else hit.ingredient.name for hit in TERMINOLOGY.find_names(text.lower())]


# ---- loading -------------------------------------------------------------------------------------
def test_load_reads_every_file() -> None:
    assert {"naltrexone", "oxycodone", "buprenorphine", "naloxone"} <= set(TERMINOLOGY.ingredients)
    assert {"percocet", "suboxone", "embeda", "contrave", "vivitrol"} <= set(TERMINOLOGY.products)
    assert {"hepatic-failure", "pregnancy", "transplant"} <= set(TERMINOLOGY.concepts)
    assert {"alt", "creatinine", "egfr", "hcg"} <= set(TERMINOLOGY.analytes)
    assert TERMINOLOGY.purpose_words["uldn"] == "uldn"


def test_a_malformed_terminology_file_is_a_terminology_error(tmp_path: Path) -> None:
    shutil.copytree(TERMINOLOGY_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "ingredients.yaml").write_text("ingredients:\n  x:\n    classes: [not-a-class]\n", encoding="utf-8")
    with pytest.raises(TerminologyError, match="not-a-class"):
        Terminology.load(tmp_path)
    with pytest.raises(TerminologyError):
        Terminology.load(tmp_path / "missing")


def test_system_aliases() -> None:
    assert canonical_system("RxNorm") == RXNORM
    assert canonical_system("icd10") == ICD10
    assert canonical_system("SNOMED") == SNOMED
    assert canonical_system("loinc") == LOINC
    assert canonical_system(None) is None


# ---- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("Percocet 5/325 1 q6h prn", ["percocet"]),
    ("Tylenol #3 1-2 tabs", ["tylenol with codeine no. 3"]),
    ("Tylenol 325 mg", ["acetaminophen"]),
    ("MS Contin 30mg BID", ["morphine"]),
    ("OxyContin 20 mg", ["oxycodone"]),
    ("LDN 4.5 mg qhs", ["naltrexone"]),
    ("ultra-low-dose naltrexone 1 mcg", ["naltrexone"]),
    ("naltrexone/bupropion", ["contrave"]),
    ("Narcan kit", ["naloxone"]),
    ("Suboxone 8/2", ["suboxone"]),
    ("oxycodone and acetaminophen", ["oxycodone", "acetaminophen"]),
    ("benzhydrocodone", ["benzhydrocodone"]),
    ("Foozle 10 mg", []),
    ("oxycodonex", []),  # whole words only
])
def test_find_names(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_find_names_gives_spans() -> None:
    hit, = TERMINOLOGY.find_names("take ldn 4.5 mg")
    assert (hit.start, hit.end, hit.ingredient.name, hit.product) == (5, 8, "naltrexone", None)


def test_thyroid_abbreviations_are_not_tylenol_with_codeine() -> None:
    # Bug: "T3"/"T4" (liothyronine / levothyroxine) meant Tylenol #3/#4, a false opioid conflict.
    assert names("T3 25 mcg daily") == []
    assert names("T4 100 mcg daily") == []


def test_combination_products_have_their_real_ingredients() -> None:
    # Bug: Tuzistra (codeine) was hydrocodone; promethazine with codeine had guaifenesin and lost
    # promethazine (a CNS depressant); Buprenex (injection for pain) was buprenorphine maintenance.
    ingredients = {name: [p.ingredient.name for p in product.parts] for name, product in TERMINOLOGY.products.items()}
    assert names("Tuzistra XR") == ["tuzistra xr"] and ingredients["tuzistra xr"] == ["codeine", "chlorpheniramine"]
    assert names("promethazine with codeine") == ["promethazine with codeine"]
    assert ingredients["promethazine with codeine"] == ["codeine", "promethazine"]
    assert TERMINOLOGY.products[names("Buprenex")[0]].opioid_use == "analgesic"


def test_product_for_ingredients() -> None:
    assert TERMINOLOGY.product_for_ingredients(["morphine", "naltrexone"]).name == "embeda"
    assert TERMINOLOGY.product_for_ingredients(["naloxone", "buprenorphine"]).name == "suboxone"
    assert TERMINOLOGY.product_for_ingredients(["naltrexone"]) is None  # one ingredient names no product
    assert TERMINOLOGY.product_for_ingredients(["codeine", "acetaminophen"]) is None  # #2, #3, #4 share it


# ---- RxNorm codes --------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "ingredient"), [
    ("7243", "naltrexone"), ("7804", "oxycodone"), ("1819", "buprenorphine"), ("7242", "naloxone"),
    ("6813", "methadone"), ("4337", "fentanyl"), ("42316", "tacrolimus"), ("8640", "prednisone"),
])
def test_ingredient_codes(code: str, ingredient: str) -> None:
    coded = TERMINOLOGY.drug_for_code(RXNORM, code)
    assert coded.ingredient.name == ingredient
    assert TERMINOLOGY.drug_for_code("rxnorm", f" {code} ") == coded
    assert TERMINOLOGY.drug_for_code(None, code) == coded


@pytest.mark.parametrize(("code", "product"), [
    ("1551468", "contrave"), ("1483744", "naltrexone 50 mg tablet"), ("637213", "vivitrol")])
def test_product_codes(code: str, product: str) -> None:
    assert TERMINOLOGY.drug_for_code(RXNORM, code).product.name == product


def test_omtk_product_codes_are_known_by_their_rxnorm_name() -> None:
    with (TERMINOLOGY_DIR / "opioid-products.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 912  # 910 products; two list two salts of oxycodone on two rows
    for row in rows:
        assert TERMINOLOGY.drug_for_code(RXNORM, row["drugCode"]).display == row["drugName"]


def test_value_set_codes_carry_the_value_set_class() -> None:
    benzodiazepine = TERMINOLOGY.drug_for_code(RXNORM, "308048")
    assert benzodiazepine.display == "alprazolam 0.5 MG Oral Tablet"
    assert benzodiazepine.extra_classes == ("benzodiazepine",)
    narcan = TERMINOLOGY.drug_for_code(RXNORM, "1725064")
    assert narcan.display == "naloxone hydrochloride 40 MG/ML Nasal Spray [Narcan]"
    assert narcan.extra_classes == ()


def test_unknown_codes_and_other_systems() -> None:
    assert TERMINOLOGY.drug_for_code(RXNORM, "999999999") is None
    assert TERMINOLOGY.drug_for_code("http://hl7.org/fhir/sid/ndc", "7243") is None


# ---- conditions ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "concept"), [
    ("K72.10", "hepatic-failure"), ("K7210", "hepatic-failure"), ("k72.10", "hepatic-failure"),
    ("K72.00", "hepatic-failure"),  # bug: acute and subacute hepatic failure was "acute hepatitis"
    ("K70.40", "hepatic-failure"), ("K70.30", "cirrhosis"), ("K74.60", "cirrhosis"), ("K7460", "cirrhosis"),
    ("B17.9", "acute-hepatitis"),
    ("N18.4", "ckd-4-5"), ("N18.6", "ckd-4-5"), ("N186", "ckd-4-5"), ("N18.3", None),
    ("Z99.2", "dialysis"), ("Z992", "dialysis"),
    ("Z94.0", "transplant"), ("Z940", "transplant"),
    ("Z33.1", "pregnancy"), ("Z331", "pregnancy"), ("O09.90", "pregnancy"), ("O0990", "pregnancy"),
    ("Z3A.20", "pregnancy"), ("Z39.1", "lactation"),
    # Bug: the bare prefix "O" made postpartum codes and ended pregnancies a current pregnancy.
    ("O90.89", None), ("O99.345", None), ("O00.10", None), ("O08.9", None), ("O80", None),
    ("O24.43", None), ("O24.439", None), ("O24.03", None), ("O25.3", None), ("O26.63", None), ("O26.73", None),
    ("O24.410", "pregnancy"), ("O24.011", "pregnancy"), ("O26.611", "pregnancy"), ("O2441", "pregnancy"),
    ("O20.0", "pregnancy"), ("O29.91", "pregnancy"), ("O30.001", "pregnancy"), ("O48.0", "pregnancy"),
    ("Z34.00", "pregnancy"),
    ("F11.20", "opioid-use-disorder"), ("F1120", "opioid-use-disorder"),
    ("Z79.891", "long-term-opioid-use"), ("Z79891", "long-term-opioid-use"),
    ("E11.9", None), ("E119", None), ("K7", None),
])
def test_icd10_codes(code: str, concept: str | None) -> None:
    assert TERMINOLOGY.concept_for_code(ICD10, code) == concept
    assert TERMINOLOGY.concept_for_code("icd10", code) == concept


@pytest.mark.parametrize(("code", "concept"), [
    ("77386006", "pregnancy"), ("161665007", "transplant"), ("169745008", "lactation"),
    ("5602001", "opioid-use-disorder"),  # from the CDC opioid-misuse-disorders value set
    ("44054006", None),
])
def test_snomed_codes(code: str, concept: str | None) -> None:
    assert TERMINOLOGY.concept_for_code(SNOMED, code) == concept


def test_a_code_in_an_unknown_system_means_nothing() -> None:
    assert TERMINOLOGY.concept_for_code("http://example.org/codes", "K72.10") is None


@pytest.mark.parametrize(("text", "concept"), [
    ("kidney transplant", "transplant"), ("Kidney Transplant", "transplant"),
    ("status post liver transplant", "transplant"),
    ("ESRD", "ckd-4-5"), ("on hemodialysis", "dialysis"), ("pregnant", "pregnancy"),
    ("decompensated cirrhosis", "cirrhosis"), ("opioid use disorder", "opioid-use-disorder"),
    # Bug: a denied phrase was recorded ("not pregnant" made the patient pregnant).
    ("not pregnant", None), ("non-pregnant", None), ("denies pregnancy", None),
    ("ckd 4 without dialysis", "ckd-4-5"),
    ("type 2 diabetes", None),
    # Bug: qualifiers after the phrase, a word between, other people, plans and look-alikes were missed.
    ("pregnancy ruled out", None), ("pregnancy test negative", None), ("pregnancy (ruled out)", None),
    ("not currently pregnant", None), ("does not have cirrhosis", None), ("not on dialysis, ESRD", "ckd-4-5"),
    ("history of pregnancy loss", None), ("h/o pregnancy", None), ("h/o acute hepatitis", None),
    ("trying to conceive", None), ("trying to get pregnant", None),
    ("pregnant wife", None), ("wife is pregnant", None), ("partner pregnant", None), ("husband: liver failure", None),
    ("cirrhosis ruled out", None), ("cirrhosis excluded", None), ("acute hepatitis resolved", None),
    ("Family history of liver failure", None), ("FHx: cirrhosis", None),
    ("hair transplant", None), ("fecal microbiota transplant", None), ("awaiting liver transplant", None),
    ("r/o acute hepatitis", None), ("transplant evaluation", None),
    ("hair transplant; kidney transplant", "transplant"),
    # Still the patient's condition now: a positive test, a lasting history, a clause of its own.
    ("pregnancy test positive", "pregnancy"), ("pregnant, partner supportive", "pregnancy"),
    ("history of kidney transplant", "transplant"), ("h/o cirrhosis", "cirrhosis"),
    ("cirrhosis, negative for HCV", "cirrhosis"), ("cirrhosis negative for HCV", "cirrhosis"),
    ("pregnant mother of two", "pregnancy"), ("denies alcohol, cirrhosis on biopsy", "cirrhosis"),
])
def test_condition_text(text: str, concept: str | None) -> None:
    assert TERMINOLOGY.concept_for_text(text) == concept


def test_an_exclusion_cannot_also_be_a_concept_phrase(tmp_path: Path) -> None:
    shutil.copytree(TERMINOLOGY_DIR, tmp_path, dirs_exist_ok=True)
    conditions = (tmp_path / "conditions.yaml").read_text(encoding="utf-8")
    (tmp_path / "conditions.yaml").write_text(conditions.replace('"hair transplant",', '"kidney transplant",'),
                                              encoding="utf-8")
    with pytest.raises(TerminologyError, match="kidney transplant"):
        Terminology.load(tmp_path)


# ---- labs and bands ------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "analyte"), [
    ("1742-6", "alt"), ("1920-8", "ast"), ("1975-2", "bilirubin"), ("2160-0", "creatinine"),
    ("98979-8", "egfr"), ("33914-3", "egfr"), ("62238-1", "egfr"), ("2106-3", "hcg"), ("82810-3", "pregnancy-status"),
    (" 1742-6 ", "alt"), ("4548-4", None),
])
def test_analyte_for_loinc(code: str, analyte: str | None) -> None:
    found = TERMINOLOGY.analyte_for_loinc(code)
    assert (found.key if found else None) == analyte


@pytest.mark.parametrize(("daily_mg", "band"), [
    (0.001, "uldn"), (0.002, "uldn"), (0.0099, "uldn"), (0.01, "vldn"), (0.25, "vldn"), (0.4999, "vldn"),
    (0.5, "ldn"), (1.5, "ldn"), (4.5, "ldn"), (4.75, "above-ldn"), (13.57, "above-ldn"), (24.9, "above-ldn"),
    (25, "standard"), (32, "standard"), (50, "standard"), (300, "standard"), (380, "above-maximum"),
    # Bug: bands began at 4.51 and 300.01, so the doses in between fell in the band below.
    (4.5001, "above-ldn"), (4.505, "above-ldn"), (24.99, "above-ldn"), (300.001, "above-maximum"),
    (300.005, "above-maximum"), (0, "uldn"),
])
def test_naltrexone_band(daily_mg: float, band: str) -> None:
    assert TERMINOLOGY.naltrexone_band(daily_mg) == band


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    below: 0.5\n", "    below: 0.5\n    up to: 0.5\n", "exactly one of"),  # two limits
    ("    up to: 4.5\n", "", "exactly one of"),  # no limit on a band that is not the last
    ("    below: 25\n", "    below: 4\n", "not above the previous"),
    ("  - band: vldn\n", "  - band: very-low\n", "very-low"),
])
def test_a_malformed_band_table_is_a_terminology_error(tmp_path: Path, old: str, new: str, message: str) -> None:
    shutil.copytree(TERMINOLOGY_DIR, tmp_path, dirs_exist_ok=True)
    bands = (tmp_path / "dose-bands.yaml").read_text(encoding="utf-8")
    assert old in bands
    (tmp_path / "dose-bands.yaml").write_text(bands.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(TerminologyError, match=message):
        Terminology.load(tmp_path)


def test_every_value_set_file_is_an_rxnorm_or_condition_expansion() -> None:
    for path in sorted((TERMINOLOGY_DIR / "valuesets").glob("*.json")):
        contains = json.loads(path.read_text(encoding="utf-8"))["expansion"]["contains"]
        assert contains, path.name
        for entry in contains:
            assert {"system", "code", "display"} <= set(entry), path.name
