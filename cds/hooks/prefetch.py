"""Filling in prefetch the CDS Client did not send, from its FHIR server.

CDS Hooks 2.0: a service may query `fhirServer` with the `fhirAuthorization` bearer token; if
it cannot get what it needs (no server, no token, an error), it answers 412.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

_TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z0-9_]+)\s*\}\}")
MAX_PAGES = 20  # a searchset is followed through `next` links at most this far
TIMEOUT_SECONDS = 5.0


class PrefetchUnavailable(Exception):
    """What the service needs cannot be had: the answer is 412 (the reason is logged, not sent)."""


def render(template: str, context: Mapping[str, Any]) -> str:
    """`MedicationRequest?patient={{context.patientId}}` with the context's value in place."""
    def value(found: re.Match[str]) -> str:
        item = context.get(found.group(1))
        if not isinstance(item, str) or not item:
            raise PrefetchUnavailable(f"the prefetch template needs context.{found.group(1)}")
        return item

    return _TOKEN.sub(value, template)


def complete(templates: Mapping[str, str], prefetch: Mapping[str, Any], context: Mapping[str, Any],
             fhir_server: str | None, authorization: Mapping[str, Any] | None,
             client: httpx.Client | None = None) -> dict[str, Any]:
    """The prefetch with every missing key fetched; keys the client sent (even as null) are kept."""
    missing = [key for key in templates if key not in prefetch]
    filled = dict(prefetch)
    if not missing:
        return filled
    if not fhir_server or not authorization or not authorization.get("access_token"):
        raise PrefetchUnavailable(f"prefetch {', '.join(missing)} missing and no fhirServer/fhirAuthorization")
    headers = {"Authorization": f"Bearer {authorization['access_token']}", "Accept": "application/fhir+json"}
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    try:
        for key in missing:
            filled[key] = _fetch(http, fhir_server.rstrip("/") + "/" + render(templates[key], context), headers)
    finally:
        if own:
            http.close()
    return filled


def _fetch(http: httpx.Client, url: str, headers: Mapping[str, str]) -> Any:
    try:
        response = http.get(url, headers=headers)
        if response.status_code == 404 and "?" not in url:
            return None  # a read of a resource that does not exist: nothing to prefetch
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise PrefetchUnavailable(f"{_path(url)}: not a FHIR resource")
        if document.get("resourceType") != "Bundle":
            return document
        entries = list(document.get("entry") or ())
        pages = 1
        while (following := _next_link(document)) and pages < MAX_PAGES:
            page = http.get(following, headers=headers)
            page.raise_for_status()
            document = page.json()
            entries += document.get("entry") or ()
            pages += 1
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    except (httpx.HTTPError, ValueError) as error:
        raise PrefetchUnavailable(f"{_path(url)}: {type(error).__name__}") from error


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    return next((link.get("url") for link in bundle.get("link") or () if link.get("relation") == "next"), None)


def _path(url: str) -> str:
    # Logged reason without query values (they hold patient ids).
    return url.split("?", 1)[0]
