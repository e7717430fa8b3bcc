"""`ldn-cds`: the pharmacist's command line.

    ldn-cds check patient.json            alerts, coloured by severity, and how each line was read
    ldn-cds check patient.json --json     the same as the JSON API's response
    ldn-cds check - < patient.json        read the patient from standard input

Exit status: 0 evaluated, 2 invalid input, 3 when `--fail-on` finds an alert that severe.
"""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Any, TextIO

import click
from marshmallow import ValidationError

from .alerts import SEVERITY_ORDER
from .schemas import EVALUATE_REQUEST, flatten_errors

_COLOURS = {"critical": "red", "warning": "yellow", "info": "cyan"}
EXIT_INVALID = 2
EXIT_FAIL_ON = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ldn-cds")
def main() -> None:
    """LDN CDS: check low-dose naltrexone prescribing against the rule set."""


@main.command()
@click.argument("patient", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="Print the JSON API's response instead of text.")
@click.option("--as-of", "as_of", help="Evaluate as of this ISO date or date-time (default: now).")
@click.option("--fail-on", type=click.Choice(["critical", "warning", "info"]),
              help="Exit with status 3 if an alert of this severity or worse is raised.")
@click.option("--color/--no-color", default=None, help="Colour by severity (default: when a terminal).")
def check(patient: TextIO, as_json: bool, as_of: str | None, fail_on: str | None, color: bool | None) -> None:
    """Evaluate one PATIENT file (JSON, the body of POST /v1/evaluate; '-' for stdin)."""
    try:
        body = json.load(patient)
    except json.JSONDecodeError as error:
        _invalid({"body": [f"is not valid JSON: {error}"]})
    except UnicodeDecodeError:
        _invalid({"body": ["is not UTF-8 text"]})
    except RecursionError:  # absurdly deep nesting, as the API answers it
        _invalid({"body": ["is not valid JSON: it is nested too deeply"]})
    if not isinstance(body, dict):
        _invalid({"body": ["must be a JSON object"]})
    if as_of:
        body["evaluationTime"] = as_of
    try:
        request = EVALUATE_REQUEST.load(body)
    except ValidationError as error:
        _invalid(flatten_errors(error.messages))

    from .service import Evaluator  # loads rules and terminology: only once input is valid

    result = Evaluator().evaluate(request)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(render_text(result.to_dict()), color=color)
    if fail_on and any(SEVERITY_ORDER[a.rule.severity] <= SEVERITY_ORDER[fail_on] for a in result.alerts):
        sys.exit(EXIT_FAIL_ON)


def render_text(result: dict[str, Any]) -> str:
    alerts = result["alerts"]
    lines = [click.style(f"LDN CDS: {len(alerts)} alert{'s' if len(alerts) != 1 else ''}", bold=True)
             + f" (evaluated {result['evaluationTime']})", ""]
    wrap = textwrap.TextWrapper(width=96, initial_indent="    ", subsequent_indent="    ")
    for alert in alerts:
        severity = alert["severity"]
        lines.append(click.style(f"{severity.upper():<8}", fg=_COLOURS[severity], bold=True)
                     + f" {alert['rule']}  {alert['summary']}")
        lines += wrap.wrap("What: " + alert["detail"])
        for suggestion in alert["suggestions"]:
            lines += wrap.wrap("Do: " + suggestion["label"] + (f". {suggestion['detail']}" if suggestion.get("detail") else ""))
        lines += wrap.wrap("Sources: " + "; ".join(source["label"] for source in alert["sources"]))
        lines.append("")
    if not alerts:
        lines += ["No alerts.", ""]
    understood = result["understood"]
    lines.append(click.style("How the input was read", bold=True))
    entries = ([understood["order"]] if understood["order"] else []) + understood["medications"]
    for medication in entries:
        classes = ", ".join(medication["classes"]) or "no class the rules use"
        dose = medication["dose"] or "dose not given"
        band = f", {medication['doseBand']} band" if medication["doseBand"] else ""
        lines.append(f"  {medication['source']}: {medication['written']!r} → {classes}; {dose}{band}; "
                     f"{medication['status']}")
    for condition in understood["conditions"]:
        lines.append(f"  condition: {condition['code'] or condition['name']} → {condition['concept']} ({condition['status']})")
    for lab in understood["labs"]:
        lines.append(f"  lab: {lab['name']} {lab['result']} on {lab['date'][:10]}")
    for note in understood["notUsed"]:
        lines.append(f"  not used: {note}")
    return "\n".join(lines)


def _invalid(errors: dict[str, list[str]]) -> None:
    click.echo("Invalid patient file:", err=True)
    for field, reasons in sorted(errors.items()):
        click.echo(f"  {field}: {'; '.join(reasons)}", err=True)
    sys.exit(EXIT_INVALID)


if __name__ == "__main__":
    main()
