"""Tests of the CDS Hooks adapter (cds/hooks)."""

from pathlib import Path

# ../shared beside the repository (CI clones it there): the published CDS Hooks examples.
SHARED_EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples" / "cds-hooks"
