"""`ldn-cds`: the pharmacist's command line.

    ldn-cds check patient.json            alerts, coloured by severity, and how each line was read
    ldn-cds check patient.json --json     the same as the JSON API's response
    ldn-cds check - < patient.json        read the patient from standard input
    ldn-cds taper --opioid "oxycodone 30 mg q8h" --years 3 --uldn [--json|--csv] [--plot mme.png]
    ldn-cds titrate --start 2026-12-01 --protocol practice-weekly [--json|--csv]
    ldn-cds screen EXPORT_DIR --out alerts.ndjson [--as-of 2026-11-23] [--workers N] [--scheduler tcp://...]

Exit status: 0 evaluated, 2 invalid input, 3 when `--fail-on` finds an alert that severe.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import textwrap
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import click
from marshmallow import ValidationError

from .alerts import SEVERITY_ORDER
from .schemas import EVALUATE_REQUEST, DateOrDateTime, flatten_errors

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


@main.command()
@click.option("--opioid", "opioids", multiple=True, required=True, metavar="'DRUG DOSE UNIT FREQUENCY'",
              help="A current opioid, e.g. 'oxycodone 30 mg every 8 hours' or 'fentanyl 25 mcg/h patch'. Repeat for several.")
@click.option("--years", type=float, required=True, help="How long opioids have been taken, in years.")
@click.option("--start", "start", default=None, help="First day of the plan (ISO date; default today).")
@click.option("--uldn/--no-uldn", default=False, help="ULDN 1 µg twice daily alongside.")
@click.option("--rate", type=float, help="Percent per interval (only slower than the default is accepted).")
@click.option("--interval", type=int, help="Days between steps.")
@click.option("--floor", "floor_mme", type=float, default=0, help="Stop at this MME/day.")
@click.option("--json", "as_json_", is_flag=True, help="The JSON API's answer.")
@click.option("--csv", "as_csv", is_flag=True, help="One row per step and drug.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write a chart of MME over time to this PNG.")
def taper(opioids: tuple[str, ...], years: float, start: str | None, uldn: bool, rate: float | None,
          interval: int | None, floor_mme: float, as_json_: bool, as_csv: bool, plot: str | None) -> None:
    """Plan an opioid taper (with ULDN when asked)."""
    from .planners.requests import TAPER_REQUEST, as_json, taper_request
    from .planners.taper import TaperError, plan_taper
    from .service import Evaluator

    evaluator = Evaluator()
    regimen = [_opioid_entry(text) for text in opioids]
    body = {"start": start or date.today().isoformat(), "yearsOfUse": years, "regimen": regimen, "uldn": uldn,
            "floorMme": floor_mme, **({"ratePercent": rate} if rate else {}),
            **({"intervalDays": interval} if interval else {})}
    try:
        plan = plan_taper(taper_request(TAPER_REQUEST.load(body), evaluator.terminology,
                                        evaluator.normalizer.medications.sigs))
    except ValidationError as error:
        _invalid(flatten_errors(error.messages), "Invalid taper request:")
    except TaperError as error:
        _invalid({"taper": [str(error)]}, "The taper cannot be planned:")
    result = as_json(plan)
    if as_json_:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["step", "date", "drug", "daily amount", "unit", "dispense", "total MME", "% of start", "ULDN"])
        for step in result["steps"]:
            for drug, amount, unit, dispense in step["doses"] or [["", "", "", ""]]:
                writer.writerow([step["number"], step["date"], drug, amount, unit, dispense, step["totalMme"],
                                 step["percentOfStart"], step["uldn"] or ""])
    else:
        click.echo(render_taper(result))
    if plot:
        plot_taper(result, plot)
        click.echo(f"Chart written to {plot}", err=True)


@main.command()
@click.option("--start", "start", default=None, help="First day (ISO date; default today).")
@click.option("--protocol", default="seed-001-4-weeks", show_default=True,
              help="seed-001-4-weeks, practice-weekly or practice-fortnightly.")
@click.option("--target", type=float, default=4.5, show_default=True, help="Target dose in mg.")
@click.option("--start-dose", type=float, help="First dose in mg (default: the protocol's).")
@click.option("--step", type=float, help="Step in mg (default: the protocol's).")
@click.option("--interval", type=int, help="Days per step (default: the protocol's).")
@click.option("--formulation", type=click.Choice(["capsule", "liquid", "drops"]), default="capsule", show_default=True)
@click.option("--mg-per-ml", type=float, help="Concentration of the liquid or drops (default: liquid 1, drops 10).")
@click.option("--drops-per-ml", type=float, help="Drops per mL of the dropper (default 20).")
@click.option("--morning", is_flag=True, help="Morning dosing (sleep disturbance).")
@click.option("--json", "as_json_", is_flag=True, help="The JSON API's answer.")
@click.option("--csv", "as_csv", is_flag=True, help="One row per step.")
def titrate(start: str | None, protocol: str, target: float, start_dose: float | None, step: float | None,
            interval: int | None, formulation: str, mg_per_ml: float | None, drops_per_ml: float | None,
            morning: bool, as_json_: bool, as_csv: bool) -> None:
    """Plan an LDN titration: dates, doses and what to dispense."""
    from .planners.requests import TITRATION_REQUEST, as_json, titration_request
    from .planners.titration import TitrationError, plan_titration

    body = {"start": start or date.today().isoformat(), "protocol": protocol, "targetMg": target,
            "formulation": formulation, "timeOfDay": "morning" if morning else "bedtime",
            **({"startMg": start_dose} if start_dose else {}), **({"stepMg": step} if step else {}),
            **({"intervalDays": interval} if interval else {}),
            **({"liquidMgPerMl": mg_per_ml} if mg_per_ml is not None else {}),
            **({"dropsPerMl": drops_per_ml} if drops_per_ml is not None else {})}
    try:
        result = as_json(plan_titration(titration_request(TITRATION_REQUEST.load(body))))
    except ValidationError as error:
        _invalid(flatten_errors(error.messages), "Invalid titration request:")
    except TitrationError as error:
        _invalid({"titration": [str(error)]}, "The titration cannot be planned:")
    if as_json_:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["step", "from", "to", "dose mg", "time of day", "dispense", "note"])
        for item in result["steps"]:
            writer.writerow([item["number"], item["start"], item["end"], item["doseMg"], item["timeOfDay"],
                             item["dispense"], item["note"] or ""])
    else:
        lines = [click.style(f"LDN titration ({result['protocol']})", bold=True), ""]
        lines += [f"  {s['number']:>2}  {s['start']} → {s['end']}  {s['doseMg']:>5} mg  {s['dispense']}"
                  + (f"  ({s['note']})" if s["note"] else "") for s in result["steps"]]
        lines += ["", *[f"  {note}" for note in result["notes"]]]
        click.echo("\n".join(lines))


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write one NDJSON line per patient here (alerts, or the reason it could not be screened).")
@click.option("--summary", "summary_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Counts per rule and severity as CSV (default: beside --out, NAME.summary.csv).")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Malformed lines as file:line: reason (default: beside --out, NAME.errors.txt).")
@click.option("--as-of", "as_of", help="Evaluate as of this ISO 8601 date or date-time (default: now; printed).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes on this machine (default: one per core; 1 runs in this process).")
@click.option("--scheduler",
              help="Run on an existing Dask cluster, tcp://host:port (default: $DASK_SCHEDULER_ADDRESS).")
@click.option("--shards", type=click.IntRange(1, 1024), help="Partitions of the panel (default: from the input size).")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the temporary shards go (default: beside --out; on a cluster, a shared directory).")
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: when stderr is a terminal).")
def screen(input_path: Path, out: Path, summary_path: Path | None, errors_path: Path | None, as_of: str | None,
           workers: int | None, scheduler: str | None, shards: int | None, work_dir: Path | None,
           progress: bool | None) -> None:
    """Screen a panel: every patient of INPUT, as the patient-view service reviews an opened chart.

    INPUT is a FHIR Bulk Data export directory (<Type>*.ndjson files: Patient, MedicationRequest,
    MedicationStatement, Condition, Observation, Medication...) or an NDJSON file of one Bundle per
    patient. Patients are grouped on disk, so memory stays flat whatever the size; the output is
    sorted by patient id.
    """
    from .screening.inputs import InputProblem
    from .screening.run import ScreenOptions
    from .screening.run import screen as run_screen

    when = _as_of(as_of)
    stem = out.name[:-len(".ndjson")] if out.name.endswith(".ndjson") else out.name
    folders = {"--out": out.parent, "--summary": summary_path and summary_path.parent,
               "--errors": errors_path and errors_path.parent, "--work-dir": work_dir}
    missing = {option: [f"{folder}: no such directory"] for option, folder in folders.items()
               if folder is not None and not folder.is_dir()}
    if missing:
        _invalid(missing, "Invalid option:")
    options = ScreenOptions(
        input=input_path, out=out, as_of=when, workers=workers, scheduler=scheduler, shards=shards, work_dir=work_dir,
        summary=summary_path or out.with_name(f"{stem}.summary.csv"),
        errors=errors_path or out.with_name(f"{stem}.errors.txt"),
        progress=sys.stderr.isatty() if progress is None else progress)
    try:
        summary = run_screen(options, echo=lambda text: click.echo(text, err=True))
    except InputProblem as error:
        _invalid({"INPUT": [str(error)]}, "The input cannot be screened:")
    click.echo(summary.table())
    click.echo(f"\nAlerts: {options.out}  Summary: {options.summary}  Malformed lines: {options.errors}")


def _as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return DateOrDateTime().deserialize(value)
    except ValidationError as error:
        _invalid({"--as-of": list(error.messages)}, "Invalid option:")
    raise AssertionError("unreachable")  # _invalid exits


def _opioid_entry(text: str) -> dict[str, Any]:
    """'oxycodone 30 mg every 8 hours' as a regimen entry: the drug, its dose and the frequency words
    (which the API reads with the service's own sig reader)."""
    found = re.search(r"(\d+(?:\.\d+)?)\s*(mg|mcg/h|mcg/hr|mcg|µg|ug|ml)\b", text.lower())
    if not found:
        _invalid({"opioid": [f"{text!r}: give the dose with its unit, e.g. '30 mg' or '25 mcg/h'"]},
                 "The opioid cannot be read:")
    lowered = text.lower()
    extended = any(word in lowered for word in (" er", " xr", " sr", "contin", "extended", "12 hr", "24 hr"))
    form = "patch" if "/h" in found.group(2) or "patch" in lowered else "er tablet" if extended else "tablet"
    frequency = text[found.end():].strip() or "once daily"
    return {"drug": text[:found.start()].strip() or text, "dose": {"value": float(found.group(1)), "unit": found.group(2)},
            "frequency": frequency, "form": form}


def render_taper(result: dict[str, Any]) -> str:
    lines = [click.style(f"Opioid taper: {result['startMme']:g} MME/day at the start", bold=True),
             "  " + "; ".join(f"{f['ingredient']} × {f['factor']:g} per {f['per']} ({f['source']})"
                              for f in result["factors"]), ""]
    for step in result["steps"]:
        doses = "; ".join(f"{drug} {amount:g} {unit} ({dispense})" for drug, amount, unit, dispense in step["doses"])
        lines.append(f"  {step['number']:>2}  {step['date']}  {step['totalMme']:>7.2f} MME  "
                     f"{step['percentOfStart']:>5.1f}%  {doses or 'stopped'}"
                     + (f"  + {step['uldn']}" if step["uldn"] else "") + (f"  [{step['note']}]" if step["note"] else ""))
    lines += ["", "Follow-up: " + ", ".join(result["followUp"]), "", textwrap.fill(result["rules"], 96)]
    lines += [textwrap.fill(note, 96) for note in result["notes"]]
    return "\n".join(lines)


def plot_taper(result: dict[str, Any], path: str) -> None:
    """MME over time as a step chart (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    from matplotlib import pyplot

    days = [date.fromisoformat(step["date"]) for step in result["steps"]]
    mme = [step["totalMme"] for step in result["steps"]]
    figure, axes = pyplot.subplots(figsize=(8, 4), dpi=100)
    axes.step(days, mme, where="post", color="#1f5f8b", linewidth=2)
    axes.scatter(days, mme, color="#1f5f8b", s=12)
    axes.set_ylim(bottom=0)
    axes.set_ylabel("MME per day")
    axes.set_title(f"Opioid taper from {result['startMme']:g} MME/day")
    axes.grid(True, alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, format="png")
    pyplot.close(figure)


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


def _invalid(errors: dict[str, list[str]], heading: str = "Invalid patient file:") -> None:
    click.echo(heading, err=True)
    for field, reasons in sorted(errors.items()):
        click.echo(f"  {field}: {'; '.join(reasons)}", err=True)
    sys.exit(EXIT_INVALID)


if __name__ == "__main__":
    main()
