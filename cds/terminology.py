"""Terminology: what a medication name, RxNorm code, condition code or LOINC code means.

Everything is read once from `rules/terminology/` at start-up (`Terminology.load()`); lookups
are dictionary and compiled-regex work only.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .exceptions import TerminologyError
from .model import CLASSES, CONCEPTS, OPIOID_USE

TERMINOLOGY_DIR = Path(__file__).resolve().parent.parent / "rules" / "terminology"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
_SYSTEM_ALIASES = {
    "rxnorm": RXNORM, "rxcui": RXNORM, RXNORM: RXNORM,
    "icd10": ICD10, "icd-10": ICD10, "icd-10-cm": ICD10, ICD10: ICD10, "http://hl7.org/fhir/sid/icd-10": ICD10,
    "snomed": SNOMED, "sct": SNOMED, SNOMED: SNOMED,
    "loinc": LOINC, LOINC: LOINC,
}
# Value sets that add a class to a coded product whatever its ingredients.
_VALUESET_CLASSES = {
    "benzodiazepine-medications": "benzodiazepine",
    "cns-depressant-medications": "cns-depressant",
}


def canonical_system(system: str | None) -> str | None:
    if system is None:
        return None
    return _SYSTEM_ALIASES.get(system.strip().lower(), _SYSTEM_ALIASES.get(system.strip(), system.strip()))


@dataclass(frozen=True, slots=True)
class IngredientDef:
    name: str
    classes: tuple[str, ...]
    opioid_use: str | None
    rxcui: str | None


@dataclass(frozen=True, slots=True)
class ProductPart:
    ingredient: IngredientDef
    strength_mg: float | None = None
    inactive_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ProductDef:
    name: str
    parts: tuple[ProductPart, ...]
    opioid_use: str | None = None
    dose_band: str | None = None
    route: str | None = None  # "topical" for ointments and eye drops: no systemic effect to speak of


@dataclass(frozen=True, slots=True)
class NameHit:
    """A drug name found in text: the span it covers and what it means."""

    start: int
    end: int
    ingredient: IngredientDef | None = None
    product: ProductDef | None = None


@dataclass(frozen=True, slots=True)
class CodedDrug:
    display: str
    extra_classes: tuple[str, ...] = ()
    ingredient: IngredientDef | None = None
    product: ProductDef | None = None


@dataclass(frozen=True, slots=True)
class AnalyteDef:
    key: str
    label: str
    unit: str | None
    accepts: frozenset[str]
    convert: Mapping[str, float]
    upper_limit: float | None
    qualitative: bool
    valid_for_days: int | None


@dataclass(frozen=True, slots=True)
class ConceptDef:
    key: str
    label: str
    icd10: tuple[str, ...]
    snomed: frozenset[str]
    text: tuple[str, ...]


@dataclass
class Terminology:
    ingredients: dict[str, IngredientDef]
    products: dict[str, ProductDef]
    concepts: dict[str, ConceptDef]
    analytes: dict[str, AnalyteDef]
    dose_bands: list[tuple[float, str]]
    dosing: Mapping[str, Any]
    purpose_words: Mapping[str, str]
    purpose_bands: Mapping[str, frozenset[str]]
    result_words: Mapping[str, str]  # "Detected" → "positive"
    topical_words: re.Pattern[str] = field(repr=False, default=None)  # type: ignore[assignment]
    _names: re.Pattern[str] = field(repr=False, default=None)  # type: ignore[assignment]
    _name_index: dict[str, tuple[IngredientDef | None, ProductDef | None]] = field(repr=False, default_factory=dict)
    _codes: dict[str, CodedDrug] = field(repr=False, default_factory=dict)
    _loinc: dict[str, AnalyteDef] = field(repr=False, default_factory=dict)
    _concept_codes: dict[tuple[str, str], str] = field(repr=False, default_factory=dict)
    _concept_text: re.Pattern[str] = field(repr=False, default=None)  # type: ignore[assignment]
    _negated: re.Pattern[str] = field(repr=False, default=None)  # type: ignore[assignment]
    _product_sets: dict[frozenset[str], ProductDef] = field(repr=False, default_factory=dict)

    # ---- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path = TERMINOLOGY_DIR) -> Terminology:
        try:
            return cls._load(directory)
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as error:
            raise TerminologyError(f"{directory}: {type(error).__name__}: {error}") from error

    @classmethod
    def _load(cls, directory: Path) -> Terminology:
        def read(name: str) -> Any:
            return yaml.safe_load((directory / name).read_text(encoding="utf-8"))

        ingredients: dict[str, IngredientDef] = {}
        names: dict[str, tuple[IngredientDef | None, ProductDef | None]] = {}
        for key, spec in read("ingredients.yaml")["ingredients"].items():
            classes = tuple(spec.get("classes") or ())
            bad = [c for c in classes if c not in CLASSES]
            use = spec.get("opioid use")
            if bad or (use is not None and use not in OPIOID_USE):
                raise ValueError(f"ingredients.yaml: {key}: unknown class or opioid use {bad or use}")
            ingredient = IngredientDef(key, classes, use, str(spec["rxcui"]) if spec.get("rxcui") else None)
            ingredients[key] = ingredient
            for name in spec.get("names") or ():
                _add_name(names, str(name), (ingredient, None), "ingredients.yaml")
        products: dict[str, ProductDef] = {}
        codes: dict[str, CodedDrug] = {}
        for key, spec in read("products.yaml")["products"].items():
            parts = []
            for part in spec["ingredients"]:
                part = part if isinstance(part, dict) else {"ingredient": part}
                parts.append(ProductPart(ingredients[part["ingredient"]], part.get("strength_mg"),
                                         part.get("inactive")))
            product = ProductDef(key, tuple(parts), spec.get("opioid use"), spec.get("dose band"), spec.get("route"))
            products[key] = product
            for name in spec.get("names") or ():
                _add_name(names, str(name), (None, product), "products.yaml")
            for code in spec.get("rxcui") or ():
                codes[str(code)] = CodedDrug(key, product=product)
        for ingredient in ingredients.values():
            if ingredient.rxcui:
                codes[ingredient.rxcui] = CodedDrug(ingredient.name, ingredient=ingredient)
        with (directory / "opioid-products.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                codes.setdefault(row["drugCode"], CodedDrug(row["drugName"]))
        for path in sorted((directory / "valuesets").glob("*.json")):
            extra = _VALUESET_CLASSES.get(path.stem)
            for entry in json.loads(path.read_text(encoding="utf-8"))["expansion"]["contains"]:
                if canonical_system(entry["system"]) != RXNORM:
                    continue
                known = codes.get(entry["code"])
                classes = ((known.extra_classes if known else ()) + ((extra,) if extra else ()))
                codes[entry["code"]] = CodedDrug(
                    known.display if known else entry["display"], classes,
                    known.ingredient if known else None, known.product if known else None)

        # A multi-ingredient set names its product only when no other product has the same set
        # (the Tylenol with codeine strengths share one).
        by_set: dict[frozenset[str], list[ProductDef]] = {}
        for product in products.values():
            if len(product.parts) > 1:
                by_set.setdefault(frozenset(p.ingredient.name for p in product.parts), []).append(product)
        product_sets = {names: found[0] for names, found in by_set.items() if len(found) == 1}

        concepts: dict[str, ConceptDef] = {}
        concept_codes: dict[tuple[str, str], str] = {}
        concept_text: dict[str, str] = {}
        conditions = read("conditions.yaml")
        for key, spec in conditions["concepts"].items():
            if key not in CONCEPTS:
                raise ValueError(f"conditions.yaml: {key}: not a concept the rules know")
            concept = ConceptDef(key, spec["label"], tuple(str(c).upper() for c in spec.get("icd10", ())),
                                 frozenset(str(c) for c in spec.get("snomed", ())),
                                 tuple(spec.get("text", ())))
            concepts[key] = concept
            for phrase in concept.text:
                concept_text.setdefault(phrase.lower(), key)
            if spec.get("valueset"):
                document = json.loads((directory / "valuesets" / f"{spec['valueset']}.json").read_text(encoding="utf-8"))
                for entry in document["expansion"]["contains"]:
                    concept_codes.setdefault((canonical_system(entry["system"]), entry["code"].upper()), key)

        analytes: dict[str, AnalyteDef] = {}
        loinc: dict[str, AnalyteDef] = {}
        for key, spec in read("labs.yaml")["analytes"].items():
            analyte = AnalyteDef(key, spec["label"], spec.get("unit"),
                                 frozenset(u.lower() for u in spec.get("accepts", ())),
                                 {u.lower(): float(f) for u, f in (spec.get("convert") or {}).items()},
                                 spec.get("upper limit"), bool(spec.get("qualitative")), spec.get("valid for days"))
            analytes[key] = analyte
            for code in spec["loinc"]:
                loinc[str(code)] = analyte
            if spec.get("valueset"):
                wanted = spec.get("valueset displays containing", "")
                document = json.loads((directory / "valuesets" / f"{spec['valueset']}.json").read_text(encoding="utf-8"))
                for entry in document["expansion"]["contains"]:
                    if wanted in entry["display"]:
                        loinc.setdefault(entry["code"], analyte)
        result_words = {word.lower(): meaning for meaning, words in read("labs.yaml")["result words"].items()
                        for word in words}

        band_file = read("dose-bands.yaml")
        dose_bands = sorted((float(b["from"]), b["band"]) for b in band_file["naltrexone"])
        purposes = {word.lower(): purpose for purpose, words in band_file["purpose words"].items() for word in words}
        purpose_bands = {purpose: frozenset(bands) for purpose, bands in band_file["purpose bands"].items()}
        terminology = cls(ingredients, products, concepts, analytes, dose_bands, read("dosing.yaml"), purposes,
                          purpose_bands, result_words)
        topical = [w.lower() for w in terminology.dosing["topical words"]]
        # A percentage strength ("0.1%") marks a cream or drops wherever it stands.
        terminology.topical_words = re.compile("%|" + _alternation(dict.fromkeys(w for w in topical if w != "%")).pattern)
        terminology._name_index = names
        terminology._names = _alternation(names)
        terminology._codes = codes
        terminology._loinc = loinc
        terminology._concept_codes = concept_codes
        terminology._concept_text = _alternation(concept_text)
        terminology._concept_text_index = concept_text  # type: ignore[attr-defined]
        negations = "|".join(re.escape(str(w).lower()) for w in conditions.get("negations") or ()) or "(?!)"
        terminology._negated = re.compile(rf"(?<![\w/])(?:{negations})\s*-?\s*$")
        terminology._product_sets = product_sets
        return terminology

    # ---- medications ---------------------------------------------------------------------
    def find_names(self, text: str) -> list[NameHit]:
        """Every drug name in `text` (already lower-cased), leftmost-longest, in order."""
        hits = []
        for found in self._names.finditer(text):
            ingredient, product = self._name_index[found.group(1)]
            hits.append(NameHit(found.start(1), found.end(1), ingredient, product))
        return hits

    def product_for_ingredients(self, names: Iterable[str]) -> ProductDef | None:
        """The one product made of exactly these ingredients (two or more), if there is one."""
        return self._product_sets.get(frozenset(names))

    def drug_for_code(self, system: str | None, code: str) -> CodedDrug | None:
        if canonical_system(system) not in (RXNORM, None):
            return None
        return self._codes.get(code.strip())

    # ---- conditions ----------------------------------------------------------------------
    def concept_for_code(self, system: str | None, code: str) -> str | None:
        system = canonical_system(system)
        code = code.strip().upper()
        found = self._concept_codes.get((system, code))
        if found:
            return found
        if system == SNOMED:
            return next((c.key for c in self.concepts.values() if code in c.snomed), None)
        if system == ICD10:
            dotted = code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"
            best = None
            for concept in self.concepts.values():
                for prefix in concept.icd10:
                    if dotted.startswith(prefix) and (best is None or len(prefix) > best[0]):
                        best = (len(prefix), concept.key)
            return best[1] if best else None
        return None

    def concept_for_text(self, text: str) -> str | None:
        text = text.lower()
        for found in self._concept_text.finditer(text):
            if not self._negated.search(text[:found.start()]):  # "not pregnant" records no pregnancy
                return self._concept_text_index[found.group(1)]  # type: ignore[attr-defined]
        return None

    # ---- labs and doses ------------------------------------------------------------------
    def analyte_for_loinc(self, code: str) -> AnalyteDef | None:
        return self._loinc.get(code.strip())

    def result_meaning(self, result: str | None) -> str | None:
        """'positive' or 'negative' for a qualitative result written either way, else None."""
        return self.result_words.get(result.strip().lower()) if result else None

    def naltrexone_band(self, daily_mg: float) -> str:
        band = self.dose_bands[0][1]
        for start, name in self.dose_bands:
            if daily_mg >= start:
                band = name
        return band


def _add_name(index: dict, name: str, meaning: tuple, file: str) -> None:
    name = name.strip().lower()
    if name in index and index[name] != meaning:
        raise ValueError(f"{file}: the name {name!r} means two different drugs")
    index[name] = meaning


def _alternation(words: Mapping[str, Any]) -> re.Pattern[str]:
    ordered = sorted(words, key=len, reverse=True)
    body = "|".join(re.escape(word) for word in ordered) or "(?!)"
    return re.compile(rf"(?<![\w#])({body})(?![\w])")
