"""Filling in prefetch the CDS Client did not send, from its FHIR server.

CDS Hooks 2.0: a service may query `fhirServer` with the `fhirAuthorization` bearer token; if
it cannot get what it needs (no server, no token, an error), it answers 412.

The token is the EHR's: it is only ever sent to a FHIR server the site has allow-listed
(`HOOKS_FHIR_SERVERS`), context values are URL-encoded FHIR ids, `next` links must stay on the
same server, and responses are size-capped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

_TOKEN = re.compile(r"\{\{\s*context\.([A-Za-z0-9_]+)\s*\}\}")
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
MAX_PAGES = 20  # a searchset is followed through `next` links at most this far
MAX_BYTES = 8 * 1024 * 1024  # per response
TIMEOUT_SECONDS = 5.0


class PrefetchUnavailable(Exception):
    """What the service needs cannot be had: the answer is 412 (the reason is logged, not sent)."""


def render(template: str, context: Mapping[str, Any]) -> str:
    """`MedicationRequest?patient={{context.patientId}}` with the context's value in place."""
    def value(found: re.Match[str]) -> str:
        item = context.get(found.group(1))
        if not isinstance(item, str) or not _FHIR_ID.match(item):
            raise PrefetchUnavailable(f"the prefetch template needs context.{found.group(1)} as a FHIR id")
        return quote(item, safe="")

    return _TOKEN.sub(value, template)


def allowed(fhir_server: str, allow_list: Iterable[str]) -> bool:
    """Whether the site trusts this FHIR server with the EHR's token (prefix match on the base URL)."""
    base = fhir_server.rstrip("/") + "/"
    return any(base.startswith(entry.rstrip("/") + "/") for entry in allow_list)


def complete(templates: Mapping[str, str], prefetch: Mapping[str, Any], context: Mapping[str, Any],
             fhir_server: str | None, authorization: Mapping[str, Any] | None,
             allow_list: Iterable[str] = (), client: httpx.Client | None = None) -> dict[str, Any]:
    """The prefetch with every missing key fetched; keys the client sent (even as null) are kept."""
    missing = [key for key in templates if key not in prefetch]
    filled = dict(prefetch)
    if not missing:
        return filled
    token = authorization.get("access_token") if isinstance(authorization, Mapping) else None
    if not fhir_server or not isinstance(token, str) or not token:
        raise PrefetchUnavailable(f"prefetch {', '.join(missing)} missing and no fhirServer/fhirAuthorization")
    if not allowed(fhir_server, allow_list):
        raise PrefetchUnavailable("fhirServer is not on the site's allow-list (HOOKS_FHIR_SERVERS)")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    try:
        base = fhir_server.rstrip("/") + "/"
        for key in missing:
            filled[key] = _fetch(http, base + render(templates[key], context), headers, base)
    finally:
        if own:
            http.close()
    return filled


def _fetch(http: httpx.Client, url: str, headers: Mapping[str, str], base: str) -> Any:
    try:
        status, document = _get(http, url, headers)
        if status == 404 and "?" not in url:
            return None  # a read of a resource that does not exist: nothing to prefetch
        if document.get("resourceType") != "Bundle":
            return document
        entries = _entries(document)
        pages = 1
        while (following := _next_link(document)) and pages < MAX_PAGES:
            if not following.startswith(base):  # the token stays on the EHR's own server
                raise PrefetchUnavailable(f"{_path(url)}: a next link leaves the FHIR server")
            _, document = _get(http, following, headers)
            entries += _entries(document)
            pages += 1
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    except (httpx.HTTPError, ValueError) as error:
        raise PrefetchUnavailable(f"{_path(url)}: {type(error).__name__}") from error


def _get(http: httpx.Client, url: str, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """One GET, its body capped at MAX_BYTES; a 404 read is (404, {}), other errors raise."""
    with http.stream("GET", url, headers=headers) as response:
        if response.status_code == 404:
            return 404, {}
        response.raise_for_status()
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_BYTES:
                raise PrefetchUnavailable(f"{_path(url)}: response larger than {MAX_BYTES} bytes")
    document = json.loads(body)
    if not isinstance(document, dict):
        raise PrefetchUnavailable(f"{_path(url)}: not a FHIR resource")
    return response.status_code, document


def _entries(bundle: Mapping[str, Any]) -> list[Any]:
    entries = bundle.get("entry")
    return list(entries) if isinstance(entries, list) else []


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    return next((link["url"] for link in links if isinstance(link, dict) and link.get("relation") == "next"
                 and isinstance(link.get("url"), str)), None)


def _path(url: str) -> str:
    # Logged reason without query values (they hold patient ids).
    return url.split("?", 1)[0]
