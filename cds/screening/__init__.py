"""Screening a panel: every patient of a FHIR Bulk Data export, reviewed as the patient-view
CDS Hooks service reviews an opened chart (`ldn-cds screen`).

The pipeline, each step in its own module:

    inputs      which files to read (an export directory of `<Type>*.ndjson`, or one NDJSON file of
                Bundles, one patient a line), cut into chunks of whole lines
    ndjson      reading a chunk line by line with bounded memory (line numbers, over-long lines)
    references  which patient a line belongs to (or why it cannot be screened)
    layout      the run's work directory, and which shard a patient falls in (CRC-32 of its id)
    partition   one chunk → the shard files of its patients (a task)
    report      the malformed lines, as file:line: reason
    medications Medication resources (bound to no patient) joined to the shards that reference them
                (a task per bucket)
    prefetch    one patient's resources → the patient-view prefetch (searchset Bundles)
    context     what a check gets: the patient, the Evaluator, the chart read once
    patient     one patient → one output line: `screen_patient` runs `CHECKS` (the LDN review first)
    ldn_review  the LDN review check: what the patient-view service says for the same chart
    shard       one shard → an output part sorted by patient id, and its counts (a task)
    evaluator   engines built once per worker process, on first use (never pickled)
    executor    where tasks run: in this process, a local Dask cluster, or an existing one
    output      the parts merged in patient id order
    summary     counts per rule and severity, as CSV and as a terminal table
    run         the whole run

Memory stays flat: no step holds more than one chunk's open files, one bucket of Medication
references or one shard's lines.
"""
