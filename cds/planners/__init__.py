"""Plans: opioid tapers with ULDN and LDN titration; pure functions over data in rules/planning/."""
