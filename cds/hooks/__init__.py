"""CDS Hooks 2.0 with FHIR R4: what an EHR calls.

The adapter maps FHIR to the evaluation request (`fhir`), fills missing prefetch from the FHIR
server (`prefetch`), checks the caller (`auth`), renders alerts as cards (`cards`) and stores
feedback (`feedback`). It knows nothing about rules.
"""
