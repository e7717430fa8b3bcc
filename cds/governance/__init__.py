"""Rule governance for clinical reviewers: lint, catalogue, diff, spec runs and safe reloads.

    specs     features/*.feature read as scenarios, which rules they name and what they expect
    lint      schema and semantic checks of rules/, the settings file and the specs
"""
