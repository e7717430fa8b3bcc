"""The web page for pharmacists (`/`) and the rule catalogue for reviewers (`/rules`).

Modules, one job each: `form` (the form's fields → the evaluation request, errors back to fields),
`lines` (medication and condition lines as typed), `results` (an evaluation as the page shows it),
`chart` (a plan as an inline SVG), `catalogue` (rules with their Gherkin scenarios), `views` (the
blueprint). Templates are in `cds/templates/web/`, the CSS and script in `cds/static/`.
"""

from __future__ import annotations

from .views import bp

__all__ = ["bp"]
