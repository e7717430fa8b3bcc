"""What a screening run reads: the files of the input, and the chunks they are read in.

INPUT is either a FHIR Bulk Data export directory, with one or more NDJSON files per resource type
named `<Type>.ndjson` or `<Type><anything>.ndjson` (`Patient.000.ndjson`, `Patient_2.ndjson`), or
one NDJSON file with a Bundle of one patient's resources per line. Files of resource types
screening does not read (Practitioner, Organization, Claim...) are skipped whole, and said so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .references import PATIENT_TYPES, SHARED_TYPES

CHUNK_BYTES = 64 * 1024 * 1024  # one task's share of a large file
_TYPE = re.compile(r"[A-Z][A-Za-z]*")
_ORDER = ("Patient", "MedicationRequest", "MedicationStatement", "Condition", "Observation")


class InputProblem(ValueError):
    """The input cannot be screened at all (missing, empty, not NDJSON)."""


@dataclass(frozen=True, slots=True)
class InputFile:
    path: Path
    size: int
    resource_type: str | None  # from a Bulk Data file name; None for a file of Bundles


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int  # the chunk's position in the run: errors are reported in this order
    path: str
    name: str  # as reports name the file (relative to INPUT)
    start: int
    end: int
    first: bool  # the first chunk of its file: its line numbers need no offset


@dataclass(frozen=True, slots=True)
class Inputs:
    files: tuple[InputFile, ...]
    skipped: tuple[str, ...]  # "Practitioner.ndjson: Practitioner is not read by screening"

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def discover(path: Path) -> Inputs:
    """The files of INPUT, in a stable order (resource type, then name)."""
    if path.is_dir():
        return _export_directory(path)
    if path.is_file():
        return Inputs((InputFile(path, path.stat().st_size, None),), ())
    raise InputProblem(f"{path}: no such file or directory")


def chunks(inputs: Inputs, chunk_bytes: int = CHUNK_BYTES) -> list[Chunk]:
    """Each file cut into byte ranges of about `chunk_bytes` (a line belongs to the chunk it starts in)."""
    found: list[Chunk] = []
    for item in inputs.files:
        name = item.path.name
        for start in range(0, max(item.size, 1), chunk_bytes):
            found.append(Chunk(len(found), os.fspath(item.path), name, start, min(start + chunk_bytes, item.size),
                               start == 0))
    return found


def _export_directory(directory: Path) -> Inputs:
    files: list[InputFile] = []
    skipped: list[str] = []
    for path in sorted(directory.glob("*.ndjson")):
        found = _TYPE.match(path.name)
        kind = found.group(0) if found else None
        if kind is None or kind not in PATIENT_TYPES | SHARED_TYPES:
            skipped.append(f"{path.name}: {kind or 'no resource type in the name'} is not read by screening")
            continue
        files.append(InputFile(path, path.stat().st_size, kind))
    if not files:
        raise InputProblem(f"{directory}: no <Type>*.ndjson files of the resource types screening reads "
                           f"({', '.join(sorted(PATIENT_TYPES | SHARED_TYPES))})")
    files.sort(key=lambda f: (_ORDER.index(f.resource_type) if f.resource_type in _ORDER else len(_ORDER),
                              f.resource_type or "", f.path.name))
    return Inputs(tuple(files), tuple(skipped))
