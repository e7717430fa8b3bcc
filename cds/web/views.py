"""The pharmacist's page, `/` (the check), and the rule catalogue, `/rules`: server-rendered HTML.

Nothing is stored and nothing from the form is logged: the request log line (cds.logs) has the
path, status and the number of alerts only. Answers are not cached anywhere (`no-store`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, Response, current_app, g, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..api import evaluator, rulebooks
from . import catalogue, results
from .form import LAB_FIELDS, FormError, read_form

bp = Blueprint("web", __name__)

# The page's own CSS and script only; form posts to itself; never framed.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@bp.after_request
def _headers(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _today() -> date:
    return datetime.now(UTC).date()


def _page(values: dict[str, str], errors: dict[str, str] | None = None, found: results.Results | None = None,
          status: int = 200, as_of_default: bool = False) -> tuple[str, int]:
    labs = [(lab, evaluator().terminology.analytes[lab.analyte]) for lab in LAB_FIELDS]
    lab_labels = {name: f"{analyte.label} {what}" for lab, analyte in labs
                  for name, what in ((lab.name, "result"), (lab.unit_name, "unit"), (lab.date_name, "date"))}
    record = render_template("web/record.txt", results=found, values=values) if found else ""
    return render_template("web/check.html", values=values, errors=errors or {}, results=found, labs=labs,
                           lab_labels=lab_labels, record_text=record, today=_today().isoformat(),
                           as_of_default=as_of_default), status


@bp.get("/")
def check_form() -> tuple[str, int]:
    return _page(_defaults(), as_of_default=True)


def _defaults() -> dict[str, str]:
    terminology = evaluator().terminology
    defaults = {lab.unit_name: terminology.analytes[lab.analyte].unit or ""
                for lab in LAB_FIELDS if not lab.qualitative}
    return {"as_of": _today().isoformat(), **defaults}


@bp.post("/")
def check() -> tuple[str, int]:
    try:
        values = {key: request.form.get(key, "") for key in request.form}
    except RequestEntityTooLarge:
        return _too_large()
    try:
        checked = read_form(request.form, evaluator().terminology, _today())
    except FormError as error:
        return _page(values, error.errors, status=400)
    evaluation = evaluator().evaluate(checked.request)
    g.alert_count = len(evaluation.alerts)
    return _page(values, found=results.build(evaluation, checked, evaluator().terminology))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_: Exception | None = None) -> tuple[str, int]:
    """A form too large to read: the empty form again, with what to do, not the API's JSON."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _page(_defaults(), {"form": f"What was sent is larger than the limit of {limit // 1024:,} KiB, so none of it "
                                       "was read. Shorten the medication and condition lists, then check again."},
                 status=413, as_of_default=True)


@bp.get("/rules")
def rules() -> str:
    return render_template("web/rules.html", categories=catalogue.catalogue(rulebooks()),
                           scenarios_for=catalogue.scenarios_for)


@bp.app_template_global("rule_scenarios")
def rule_scenarios(rule_id: str) -> tuple[catalogue.Scenario, ...]:
    """For templates outside this blueprint (rule.html, the page /v1/rules/<id> shows people)."""
    return catalogue.scenarios_for(rule_id)
