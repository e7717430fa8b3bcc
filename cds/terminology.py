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
from .model import CLASSES, CONCEPTS, DOSE_BANDS, OPIOID_USE

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
    icd10_except: tuple[str, ...] = ()  # prefixes under `icd10` that do not mean the concept
    history_stays_current: bool = False  # "history of" it is still the condition now (a transplant)


@dataclass(frozen=True, slots=True)
class DoseBand:
    """A naltrexone band up to its upper limit: `inclusive` for "up to" (≤), not for "below" (<).
    The last band has no limit."""

    band: str
    limit: float | None
    inclusive: bool = False

    def holds(self, daily_mg: float) -> bool:
        if self.limit is None:
            return True
        return daily_mg <= self.limit if self.inclusive else daily_mg < self.limit


@dataclass(frozen=True, slots=True)
class _TextQualifiers:
    """The compiled words of conditions.yaml `text`: what makes a phrase not the patient's condition now."""

    clause_break: re.Pattern[str]
    not_before: re.Pattern[str]
    not_after: re.Pattern[str]
    past: re.Pattern[str]
    someone_else: re.Pattern[str]


_MEMO_LIMIT = 65_536  # remembered condition-code answers, per process


@dataclass
class Terminology:
    ingredients: dict[str, IngredientDef]
    products: dict[str, ProductDef]
    concepts: dict[str, ConceptDef]
    analytes: dict[str, AnalyteDef]
    dose_bands: list[DoseBand]
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
    # phrase → concept, or None for an exclusion ("hair transplant")
    _concept_text_index: dict[str, str | None] = field(repr=False, default_factory=dict)
    _qualifiers: _TextQualifiers = field(repr=False, default=None)  # type: ignore[assignment]
    _product_sets: dict[frozenset[str], ProductDef] = field(repr=False, default_factory=dict)
    _concept_memo: dict[tuple[str | None, str], str | None] = field(repr=False, default_factory=dict)

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
        concept_text: dict[str, str | None] = {}
        conditions = read("conditions.yaml")
        for key, spec in conditions["concepts"].items():
            if key not in CONCEPTS:
                raise ValueError(f"conditions.yaml: {key}: not a concept the rules know")
            concept = ConceptDef(key, spec["label"], tuple(str(c).upper() for c in spec.get("icd10", ())),
                                 frozenset(str(c) for c in spec.get("snomed", ())),
                                 tuple(spec.get("text", ())),
                                 tuple(str(c).upper() for c in spec.get("icd10 except", ())),
                                 bool(spec.get("history stays current")))
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

        for phrase in conditions.get("exclusions") or ():
            if concept_text.get(str(phrase).lower()):
                raise ValueError(f"conditions.yaml: {phrase!r} is both a concept's phrase and an exclusion")
            concept_text[str(phrase).lower()] = None

        band_file = read("dose-bands.yaml")
        dose_bands = _dose_bands(band_file["naltrexone"])
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
        terminology._concept_text_index = concept_text
        terminology._qualifiers = _text_qualifiers(conditions["text"])
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
        # Codes repeat across patients and the prefix search below is slow: remember each answer
        # (bounded: a flood of distinct codes cannot grow it past _MEMO_LIMIT).
        key = (system, code)
        memo = self._concept_memo
        if key not in memo:
            if len(memo) >= _MEMO_LIMIT:
                memo.clear()
            memo[key] = self._concept_for_code(system, code)
        return memo[key]

    def _concept_for_code(self, system: str | None, code: str) -> str | None:
        system = canonical_system(system)
        code = code.strip().upper()
        found = self._concept_codes.get((system, code))
        if found:
            return found
        if system == SNOMED:
            return next((c.key for c in self.concepts.values() if code in c.snomed), None)
        if system == ICD10:
            dotted = code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"
            best: tuple[int, str | None] | None = None
            for concept in self.concepts.values():
                # The longest prefix decides: an `icd10 except` prefix (O24.43, in the puerperium)
                # is longer than the one it carves out of (O24), and means no concept.
                for prefixes, meaning in ((concept.icd10, concept.key), (concept.icd10_except, None)):
                    for prefix in prefixes:
                        if dotted.startswith(prefix) and (best is None or len(prefix) > best[0]):
                            best = (len(prefix), meaning)
            return best[1] if best else None
        return None

    def concept_for_text(self, text: str) -> str | None:
        """The first phrase in `text` that is the patient's condition now: not denied ("not
        pregnant", "cirrhosis ruled out"), not someone else's ("pregnant wife", "family history of
        liver failure"), not yet ("awaiting liver transplant"), not over ("history of pregnancy" --
        unless the concept's history stays current), and not an exclusion ("hair transplant")."""
        text = text.lower()
        words = self._qualifiers
        for found in self._concept_text.finditer(text):
            key = self._concept_text_index[found.group(1)]
            if key is None:
                continue
            breaks = [m.end() for m in words.clause_break.finditer(text, 0, found.start())]
            before = text[breaks[-1] if breaks else 0:found.start()]
            following = words.clause_break.search(text, found.end())
            after = text[found.end():following.start() if following else len(text)]
            if (words.not_before.search(before) or words.not_after.match(after)
                    or words.someone_else.search(before) or words.someone_else.search(after)):
                continue
            if words.past.search(before) and not self.concepts[key].history_stays_current:
                continue
            return key
        return None

    # ---- labs and doses ------------------------------------------------------------------
    def analyte_for_loinc(self, code: str) -> AnalyteDef | None:
        return self._loinc.get(code.strip())

    def loinc_codes(self) -> dict[str, str]:
        """Every LOINC code a rule can use, with its analyte (for prefetch queries)."""
        return {code: analyte.key for code, analyte in self._loinc.items()}

    def result_meaning(self, result: str | None) -> str | None:
        """'positive' or 'negative' for a qualitative result written either way, else None."""
        return self.result_words.get(result.strip().lower()) if result else None

    def naltrexone_band(self, daily_mg: float) -> str:
        return next(band.band for band in self.dose_bands if band.holds(daily_mg))


def _dose_bands(entries: list[dict[str, Any]]) -> list[DoseBand]:
    """dose-bands.yaml `naltrexone`, lowest first: each band but the last has one upper limit,
    `up to` (≤) or `below` (<), above the previous one; the last has none."""
    bands = []
    for index, entry in enumerate(entries):
        name = entry["band"]
        limits = [key for key in ("up to", "below") if key in entry]
        last = index == len(entries) - 1
        if name not in DOSE_BANDS or name == "unknown" or len(limits) != (0 if last else 1):
            raise ValueError(f"dose-bands.yaml: {name}: give a known band and exactly one of 'up to' or "
                             f"'below' (none for the last band)")
        band = DoseBand(name, float(entry[limits[0]]) if limits else None, limits == ["up to"])
        if bands and band.limit is not None and band.limit <= bands[-1].limit:  # type: ignore[operator]
            raise ValueError(f"dose-bands.yaml: {name}: its limit is not above the previous band's")
        bands.append(band)
    if not bands:
        raise ValueError("dose-bands.yaml: no naltrexone bands")
    return bands


def _text_qualifiers(spec: Mapping[str, Any]) -> _TextQualifiers:
    def words(key: str) -> list[str]:
        return [str(word).lower() for word in spec.get(key) or ()]

    def either(found: list[str]) -> str:
        return "|".join(re.escape(w) for w in sorted(found, key=len, reverse=True)) or "(?!)"

    breaks = "|".join(re.escape(w) if not w[0].isalnum() else rf"\b{re.escape(w)}\b"
                      for w in words("clause breaks")) or "(?!)"
    gap = r"[\s:()\-]"
    between_before = rf"(?:{gap}+(?:{either(words('between before'))}))*{gap}*$"
    not_before, not_after = words("not before"), words("not after")
    # "cirrhosis negative for HCV": "negative for" denies what follows it, not "cirrhosis".
    longer = [b for b in not_before if any(b.startswith(a) and len(b) > len(a) for a in not_after)]
    return _TextQualifiers(
        clause_break=re.compile(breaks),
        not_before=re.compile(rf"(?<![\w/])(?:{either(not_before)}){between_before}"),
        not_after=re.compile(rf"^{gap}*(?:(?:{either(words('between after'))}){gap}+)*"
                             rf"(?!(?:{either(longer)})(?!\w))(?:{either(not_after)})(?!\w)"),
        past=re.compile(rf"(?<![\w/])(?:{either(words('past'))}){between_before}"),
        someone_else=re.compile(rf"(?<!\w)(?:{either(words('someone else'))})(?!\w)"),
    )


def _add_name(index: dict, name: str, meaning: tuple, file: str) -> None:
    name = name.strip().lower()
    if name in index and index[name] != meaning:
        raise ValueError(f"{file}: the name {name!r} means two different drugs")
    index[name] = meaning


def _alternation(words: Mapping[str, Any]) -> re.Pattern[str]:
    ordered = sorted(words, key=len, reverse=True)
    body = "|".join(re.escape(word) for word in ordered) or "(?!)"
    return re.compile(rf"(?<![\w#])({body})(?![\w])")
