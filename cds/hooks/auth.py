"""Who is calling: CDS Hooks 2.0 client authentication ("Trusting CDS Clients").

Every CDS Hooks request carries `Authorization: Bearer <JWT>`, signed by the CDS Client with
its private key. `Authenticator.verify` accepts a token only when:

- the header `alg` is asymmetric (ES256/384/512, RS256/384/512, PS256/384/512; the
  specification recommends ES384 and RS384). `none` and every HMAC algorithm are refused, as
  are `crit` extensions;
- `iss` is on the configured allow-list (`TrustedIssuer`);
- the signature verifies with the key named by the header `kid`, taken from that issuer's JWK
  Set: a static JWKS, or one fetched from `jwks_url`. A `jku` header is honoured only when it
  is listed in the issuer's `allowed_jku`; any other `jku` is ignored (the configured keys are
  used, and if the issuer has none the token is refused). Fetched sets are cached for a TTL
  and refetched at most once per verification when the `kid` is unknown (key rotation), never
  more often than a short cool-down;
- `aud` is the URL of the CDS Service endpoint being invoked (a string, or a list holding it);
- `exp` and `iat` are present, `exp` is not past and `iat` is not in the future (both with a
  small leeway), `nbf` (if sent) is reached, and the token lives no longer than five minutes;
- `jti` is present and has not been seen before from that issuer (replay).

`sub` and `tenant` are optional, as in CDS Hooks 2.0.1 (`sub` was removed from the payload
before 1.0 and the CDS Hooks sandbox does not send it); when present they must be strings.

Failures raise `AuthError` with a short reason meant for the structured log only; the client
gets a bare 401. Neither the token nor any part of it other than `iss`, `kid` and `alg` ever
reaches a log or an error message.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import ipaddress
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

__all__ = [
    "ALLOWED_ALGORITHMS",
    "AuthError",
    "Authenticator",
    "JtiStore",
    "TrustedIssuer",
    "authenticator_from_config",
    "www_authenticate",
]

# Asymmetric JWS algorithms only (RFC 7518). The specification recommends ES384 and RS384.
_EC_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
ALLOWED_ALGORITHMS = frozenset(_EC_CURVES) | _RSA_ALGORITHMS

MAX_TOKEN_BYTES = 16_384  # a CDS Hooks JWT is well under 2 KiB
MAX_JWKS_BYTES = 262_144
MIN_RSA_BITS = 2048
MAX_JTI_CHARS = 512
_BEARER = re.compile(r"^\s*bearer +([A-Za-z0-9._~+/-]+=*)\s*$", re.IGNORECASE)
_LOOPBACK_NAMES = {"localhost"}
_CONFIG_ISSUER_FIELDS = {"iss", "jwks_url", "jwks", "allowed_jku"}


class AuthError(Exception):
    """The caller could not be authenticated.

    `reason` is for the structured log (never shown to the client, never containing the token);
    `context` holds at most the token's `iss`, `kid` and `alg`, trimmed, for the same log.
    """

    def __init__(self, reason: str, **context: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.context: dict[str, str] = {k: _trim(v) for k, v in context.items() if v is not None}

    @property
    def credentials_missing(self) -> bool:
        """No Authorization header at all (RFC 6750 §3.1: the challenge then carries no error)."""
        return self.reason == "authorization header missing"


def www_authenticate(error: AuthError | None = None, realm: str = "cds-hooks") -> str:
    """The `WWW-Authenticate` value for a 401 (RFC 6750 §3), without any detail about why."""
    if error is None or error.credentials_missing:
        return f'Bearer realm="{realm}"'
    return f'Bearer realm="{realm}", error="invalid_token"'


def _trim(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _check_url(url: str, what: str) -> None:
    """JWK Sets come over HTTPS; plain HTTP only to loopback (tests, a local key server)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        if host in _LOOPBACK_NAMES:
            return
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            pass
    raise ValueError(f"{what} must be an https URL (http only for loopback): {url!r}")


@dataclass(frozen=True)
class TrustedIssuer:
    """A CDS Client the service trusts, and where its public keys are.

    `jwks_url` is fetched (and cached); `jwks` is a static JWK Set (tests, air-gapped sites);
    `allowed_jku` lists the JWK Set URLs this issuer may name in a token's `jku` header.
    At least one of the three is required.
    """

    iss: str
    jwks_url: str | None = None
    jwks: Mapping[str, Any] | None = None
    allowed_jku: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.iss, str) or not self.iss:
            raise ValueError("trusted issuer: iss must be a non-empty string")
        if isinstance(self.allowed_jku, str) or not isinstance(self.allowed_jku, Iterable):
            raise ValueError(f"trusted issuer {self.iss}: allowed_jku must be a list of URLs")
        object.__setattr__(self, "allowed_jku", tuple(self.allowed_jku))
        if self.jwks_url is None and self.jwks is None and not self.allowed_jku:
            raise ValueError(f"trusted issuer {self.iss}: give jwks_url, jwks or allowed_jku")
        if self.jwks_url is not None:
            _check_url(self.jwks_url, f"trusted issuer {self.iss}: jwks_url")
        for url in self.allowed_jku:
            if not isinstance(url, str):
                raise ValueError(f"trusted issuer {self.iss}: allowed_jku must be a list of URLs")
            _check_url(url, f"trusted issuer {self.iss}: allowed_jku")
        if self.jwks is not None and not isinstance(self.jwks, Mapping):
            raise ValueError(f"trusted issuer {self.iss}: jwks must be a JWK Set object")


@dataclass(frozen=True)
class _Key:
    kid: str
    kty: str
    alg: str | None
    key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey

    def suits(self, alg: str) -> bool:
        if self.alg is not None and self.alg != alg:
            return False
        if alg in _EC_CURVES:
            return isinstance(self.key, ec.EllipticCurvePublicKey) and isinstance(self.key.curve, _EC_CURVES[alg])
        return isinstance(self.key, rsa.RSAPublicKey)


_KeySet = dict[str, list[_Key]]


def _parse_jwks(document: Any) -> tuple[_KeySet, list[str]]:
    """The usable signature keys of a JWK Set by `kid`, and why any others were skipped."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set (an object with a 'keys' list)")
    keys: _KeySet = {}
    skipped: list[str] = []
    for index, jwk in enumerate(document["keys"]):
        if not isinstance(jwk, Mapping):
            skipped.append(f"key {index}: not an object")
            continue
        kid, kty, use, alg = jwk.get("kid"), jwk.get("kty"), jwk.get("use"), jwk.get("alg")
        name = f"key {kid!r}" if isinstance(kid, str) else f"key {index}"
        if not isinstance(kid, str) or not kid:
            skipped.append(f"{name}: no kid")
        elif kty not in ("EC", "RSA"):
            skipped.append(f"{name}: kty {kty!r} is not EC or RSA")
        elif use is not None and use != "sig":
            skipped.append(f"{name}: use {use!r} is not sig")
        elif alg is not None and alg not in ALLOWED_ALGORITHMS:
            skipped.append(f"{name}: alg {alg!r} not allowed")
        elif "d" in jwk or "p" in jwk:
            skipped.append(f"{name}: holds private key material")
        else:
            try:
                loader = ECAlgorithm if kty == "EC" else RSAAlgorithm
                key = loader.from_jwk(dict(jwk))
            except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
                skipped.append(f"{name}: {error}")
                continue
            if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
                skipped.append(f"{name}: RSA key shorter than {MIN_RSA_BITS} bits")
                continue
            if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
                skipped.append(f"{name}: not a public key")
                continue
            keys.setdefault(kid, []).append(_Key(kid, kty, alg, key))
    return keys, skipped


class JtiStore:
    """Token ids already seen, remembered until the token's `exp` plus leeway.

    In memory and thread-safe; at most `max_entries` ids. When full, the id closest to expiry
    is forgotten first (so replay protection degrades only for the oldest tokens, and only under
    a flood of valid tokens). One store per process: several gunicorn workers each keep their own.
    """

    def __init__(self, max_entries: int = 100_000, leeway_seconds: int = 30,
                 clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._leeway = leeway_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[tuple[str, str], float] = {}
        self._heap: list[tuple[float, tuple[str, str]]] = []

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._until)

    def seen_before(self, iss: str, jti: str, exp: int) -> bool:
        """True if (iss, jti) was recorded and has not expired; otherwise record it."""
        key = (iss, jti)
        now = self._clock()
        with self._lock:
            self._purge(now)
            if key in self._until:
                return True
            while len(self._until) >= self._max and self._heap:
                self._evict_one()
            until = float(exp) + self._leeway
            self._until[key] = until
            heapq.heappush(self._heap, (until, key))
            return False

    def _purge(self, now: float) -> None:
        while self._heap and self._heap[0][0] < now:
            until, key = heapq.heappop(self._heap)
            if self._until.get(key) == until:
                del self._until[key]

    def _evict_one(self) -> None:
        while self._heap:
            until, key = heapq.heappop(self._heap)
            if self._until.get(key) == until:
                del self._until[key]
                return


@dataclass
class _CachedSet:
    keys: _KeySet
    fetched_at: float


class Authenticator:
    """Verifies CDS Hooks bearer JWTs against a fixed allow-list of issuers. Thread-safe."""

    def __init__(self, issuers: Iterable[TrustedIssuer], leeway_seconds: int = 30,
                 max_lifetime_seconds: int = 300, http: httpx.Client | None = None,
                 jti_store: JtiStore | None = None, *, jwks_cache_seconds: float = 300.0,
                 jwks_refetch_cooldown_seconds: float = 10.0, jwks_timeout_seconds: float = 5.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._issuers: dict[str, TrustedIssuer] = {}
        self._static: dict[str, _KeySet] = {}
        for issuer in issuers:
            if issuer.iss in self._issuers:
                raise ValueError(f"trusted issuer {issuer.iss} is listed twice")
            self._issuers[issuer.iss] = issuer
            if issuer.jwks is not None:
                try:
                    keys, skipped = _parse_jwks(issuer.jwks)
                except ValueError as error:
                    raise ValueError(f"trusted issuer {issuer.iss}: jwks: {error}") from None
                if not keys:
                    raise ValueError(f"trusted issuer {issuer.iss}: jwks has no usable signature key"
                                     + (f" ({'; '.join(skipped)})" if skipped else ""))
                self._static[issuer.iss] = keys
        if leeway_seconds < 0 or max_lifetime_seconds <= 0:
            raise ValueError("leeway must be >= 0 and the maximum lifetime > 0 seconds")
        self.leeway_seconds = leeway_seconds
        self.max_lifetime_seconds = max_lifetime_seconds
        self._clock = clock
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=jwks_timeout_seconds, follow_redirects=False,
                                          headers={"Accept": "application/json, application/jwk-set+json"})
        self._jti = jti_store if jti_store is not None else JtiStore(leeway_seconds=leeway_seconds, clock=clock)
        self._cache_seconds = jwks_cache_seconds
        self._cooldown = jwks_refetch_cooldown_seconds
        self._cache: dict[str, _CachedSet] = {}
        self._failed_at: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @property
    def issuers(self) -> tuple[str, ...]:
        return tuple(self._issuers)

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    # -- verification -------------------------------------------------------------------------

    def verify(self, authorization_header: str | None, audience: str) -> Mapping[str, Any]:
        """The verified claims of the request's bearer token; raises AuthError otherwise."""
        token = _bearer_token(authorization_header)
        if not self._issuers:
            raise AuthError("no trusted issuers configured")
        header = _unverified_header(token)
        alg, kid, jku = header.get("alg"), header.get("kid"), header.get("jku")
        if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
            raise AuthError("alg not allowed", alg=alg)
        if "crit" in header or "b64" in header:
            raise AuthError("crit header not supported", alg=alg)
        if not isinstance(kid, str) or not kid:
            raise AuthError("kid missing", alg=alg)
        if jku is not None and not isinstance(jku, str):
            raise AuthError("jku not a string", alg=alg, kid=kid)

        iss = _unverified_claims(token).get("iss")
        if not isinstance(iss, str) or not iss:
            raise AuthError("iss missing", alg=alg, kid=kid)
        issuer = self._issuers.get(iss)
        if issuer is None:
            raise AuthError("iss not trusted", iss=iss, kid=kid, alg=alg)

        candidates = [key for key in self._keys(issuer, kid, jku) if key.suits(alg)]
        if not candidates:
            raise AuthError("key does not match alg", iss=iss, kid=kid, alg=alg)
        claims = self._verified_claims(token, alg, candidates, iss=iss, kid=kid)
        if claims.get("iss") != iss:  # cannot differ (same payload), but never trust an assumption
            raise AuthError("iss not trusted", iss=iss, kid=kid, alg=alg)
        self._check_claims(claims, audience, iss=iss, kid=kid, alg=alg)
        return claims

    def _verified_claims(self, token: str, alg: str, keys: list[_Key], **context: Any) -> dict[str, Any]:
        for key in keys:
            try:
                decoded = jwt.PyJWS().decode_complete(
                    token, key=key.key, algorithms=[alg], options={"enforce_minimum_key_length": True})
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                raise AuthError("token malformed", alg=alg, **context) from None
            claims = _json_object(decoded["payload"])
            if claims is None:
                raise AuthError("token malformed", alg=alg, **context)
            return claims
        raise AuthError("signature invalid", alg=alg, **context)

    def _check_claims(self, claims: Mapping[str, Any], audience: str, **context: Any) -> None:
        now = self._clock()
        leeway = self.leeway_seconds

        aud = claims.get("aud")
        if aud is None:
            raise AuthError("aud missing", **context)
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise AuthError("aud malformed", **context)
        if audience not in audiences:
            raise AuthError("audience mismatch", **context)

        exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
        for name, value in (("exp", exp), ("iat", iat)):
            if value is None:
                raise AuthError(f"{name} missing", **context)
            if not _is_number(value):
                raise AuthError(f"{name} not a number", **context)
        if exp < now - leeway:
            raise AuthError("token expired", **context)
        if iat > now + leeway:
            raise AuthError("iat in the future", **context)
        if nbf is not None and (not _is_number(nbf) or nbf > now + leeway):
            raise AuthError("token not yet valid (nbf)", **context)
        if exp < iat:
            raise AuthError("exp before iat", **context)
        if exp - iat > self.max_lifetime_seconds + leeway:
            raise AuthError("token lifetime too long", **context)

        for name in ("sub", "tenant"):
            if name in claims and not isinstance(claims[name], str):
                raise AuthError(f"{name} not a string", **context)

        jti = claims.get("jti")
        if jti is None or jti == "":
            raise AuthError("jti missing", **context)
        if not isinstance(jti, str) or len(jti) > MAX_JTI_CHARS:
            raise AuthError("jti malformed", **context)
        # Last: only a token that passed every other check may claim its jti.
        if self._jti.seen_before(context["iss"], jti, math.ceil(exp)):
            raise AuthError("token replayed", **context)

    # -- keys ---------------------------------------------------------------------------------

    def _keys(self, issuer: TrustedIssuer, kid: str, jku: str | None) -> list[_Key]:
        context = {"iss": issuer.iss, "kid": kid}
        if jku is not None and jku in issuer.allowed_jku:
            return self._remote_keys(jku, kid, context)
        # A jku that is not allow-listed is ignored: only configured keys are used.
        static = self._static.get(issuer.iss)
        if static is not None and kid in static:
            return static[kid]
        if issuer.jwks_url is not None:
            return self._remote_keys(issuer.jwks_url, kid, context)
        if static is not None:
            raise AuthError("unknown kid", **context)
        if jku is not None:
            raise AuthError("jku not allow-listed", **context)
        raise AuthError("no key source for issuer (jku required)", **context)

    def _remote_keys(self, url: str, kid: str, context: Mapping[str, Any]) -> list[_Key]:
        entry = self._cache.get(url)
        if entry is not None and self._clock() - entry.fetched_at < self._cache_seconds and kid in entry.keys:
            return entry.keys[kid]
        with self._lock_for(url):
            now = self._clock()
            entry = self._cache.get(url)  # another thread may have refreshed it while we waited
            fresh = entry is not None and now - entry.fetched_at < self._cache_seconds
            if fresh and kid in entry.keys:  # type: ignore[union-attr]
                return entry.keys[kid]  # type: ignore[union-attr]
            if fresh and now - entry.fetched_at < self._cooldown:  # type: ignore[union-attr]
                raise AuthError("unknown kid", **context)  # refetched too recently to try again
            failed = self._failed_at.get(url)
            if failed is not None and now - failed < self._cooldown:
                raise AuthError("jwks unavailable (recent failure)", **context)
            try:
                keys = self._download(url)
            except AuthError as error:
                self._failed_at[url] = now
                raise AuthError(error.reason, **context) from None
            self._failed_at.pop(url, None)
            self._cache[url] = _CachedSet(keys, now)
            if kid in keys:
                return keys[kid]
            raise AuthError("unknown kid", **context)

    def _lock_for(self, url: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(url, threading.Lock())

    def _download(self, url: str) -> _KeySet:
        try:
            with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise AuthError(f"jwks unavailable (HTTP {response.status_code})")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_JWKS_BYTES:
                        raise AuthError("jwks unavailable (too large)")
        except httpx.HTTPError as error:
            raise AuthError(f"jwks unavailable ({type(error).__name__})") from None
        document = _json_object(bytes(body))
        if document is None:
            raise AuthError("jwks unavailable (not JSON)")
        try:
            keys, _ = _parse_jwks(document)
        except ValueError:
            raise AuthError("jwks unavailable (not a JWK Set)") from None
        return keys


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _bearer_token(authorization_header: str | None) -> str:
    if authorization_header is None or not authorization_header.strip():
        raise AuthError("authorization header missing")
    if len(authorization_header) > MAX_TOKEN_BYTES:
        raise AuthError("token too large")
    scheme = authorization_header.strip().split(None, 1)[0]
    if scheme.lower() != "bearer":
        raise AuthError("authorization scheme not Bearer")  # no scheme in the log: it may be a bare token
    match = _BEARER.match(authorization_header)
    if match is None:
        raise AuthError("bearer token missing or malformed")
    token = match.group(1)
    if token.count(".") != 2:
        raise AuthError("token malformed (not a compact JWS)")
    return token


def _unverified_header(token: str) -> dict[str, Any]:
    """Read here rather than by PyJWT so that each refusal gets its own reason (crit, kid, ...)."""
    segment = token.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (ValueError, binascii.Error):
        raise AuthError("token malformed (header)") from None
    header = _json_object(raw)
    if header is None:
        raise AuthError("token malformed (header)")
    return header


def _unverified_claims(token: str) -> dict[str, Any]:
    """Only to find the issuer; every claim used is read again after the signature verifies."""
    try:
        decoded = jwt.PyJWS().decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthError("token malformed (payload)") from None
    claims = _json_object(decoded["payload"])
    if claims is None:
        raise AuthError("token malformed (payload)")
    return claims


# -- configuration ------------------------------------------------------------------------------


def authenticator_from_config(config: Mapping[str, Any], jti_store: Any = None) -> Authenticator | None:
    """The Authenticator the app's config asks for, or None when HOOKS_AUTH is "off".

    Keys (from `LDN_CDS_*` environment variables through `from_prefixed_env`, or create_app):
    - HOOKS_AUTH: "jwt" (default) or "off" (local development only: the caller must log a warning).
    - HOOKS_TRUSTED_ISSUERS: a list of {"iss", "jwks_url" | "jwks", "allowed_jku": [...]}, given as
      a list, as JSON text, or as the path of a JSON file holding it; "jwks" is a JWK Set object
      or the path of a JWK Set file. Empty or absent: every token is refused.
    - HOOKS_AUTH_LEEWAY_SECONDS (30), HOOKS_AUTH_MAX_LIFETIME_SECONDS (300),
      HOOKS_JWKS_CACHE_SECONDS (300), HOOKS_JWKS_TIMEOUT_SECONDS (5).
    Raises ValueError naming the problem when the configuration is malformed.
    """
    mode = config.get("HOOKS_AUTH", "jwt")
    if mode is False or (isinstance(mode, str) and mode.strip().lower() == "off"):
        return None
    if not (mode is None or mode is True or (isinstance(mode, str) and mode.strip().lower() in ("jwt", "on"))):
        raise ValueError(f'HOOKS_AUTH must be "jwt" or "off", not {mode!r}')

    issuers = [_issuer_from_config(entry, index)
               for index, entry in enumerate(_issuer_entries(config.get("HOOKS_TRUSTED_ISSUERS")))]
    return Authenticator(
        issuers,
        leeway_seconds=_number(config, "HOOKS_AUTH_LEEWAY_SECONDS", 30),
        max_lifetime_seconds=_number(config, "HOOKS_AUTH_MAX_LIFETIME_SECONDS", 300),
        jwks_cache_seconds=_number(config, "HOOKS_JWKS_CACHE_SECONDS", 300),
        jwks_timeout_seconds=_number(config, "HOOKS_JWKS_TIMEOUT_SECONDS", 5),
        jti_store=jti_store,
    )


def _number(config: Mapping[str, Any], name: str, default: int) -> int:
    value = config.get(name, default)
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise ValueError(f"{name} must be a whole number of seconds, not {value!r}") from None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a whole number of seconds, not {value!r}")
    return value


def _issuer_entries(raw: Any) -> list[Any]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        text = raw.strip()
        if not text.startswith(("[", "{")):
            try:
                text = Path(text).read_text(encoding="utf-8")
            except OSError as error:
                raise ValueError(f"HOOKS_TRUSTED_ISSUERS: cannot read {raw!r}: {error.strerror}") from None
        try:
            raw = json.loads(text)
        except ValueError as error:
            raise ValueError(f"HOOKS_TRUSTED_ISSUERS is not valid JSON: {error}") from None
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list):
        raise ValueError("HOOKS_TRUSTED_ISSUERS must be a list of issuers")
    return raw


def _issuer_from_config(entry: Any, index: int) -> TrustedIssuer:
    where = f"HOOKS_TRUSTED_ISSUERS[{index}]"
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where} must be an object")
    unknown = sorted(set(entry) - _CONFIG_ISSUER_FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    jwks = entry.get("jwks")
    if isinstance(jwks, str):
        try:
            jwks = json.loads(Path(jwks).read_text(encoding="utf-8"))
        except OSError as error:
            raise ValueError(f"{where}: cannot read jwks file {entry['jwks']!r}: {error.strerror}") from None
        except ValueError as error:
            raise ValueError(f"{where}: jwks file is not valid JSON: {error}") from None
    allowed_jku = entry.get("allowed_jku", ())
    if isinstance(allowed_jku, str):
        allowed_jku = (allowed_jku,)
    try:
        return TrustedIssuer(iss=entry.get("iss"), jwks_url=entry.get("jwks_url"), jwks=jwks,
                             allowed_jku=allowed_jku)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
