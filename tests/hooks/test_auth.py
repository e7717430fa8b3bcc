"""CDS Hooks client authentication: real keys, real signatures, a real JWK Set server on loopback.

Nothing here mocks PyJWT or the cryptography: tokens are signed with freshly generated ES384 and
RS384 keys, and the issuer's JWK Set is served over HTTP by a server the tests start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds.hooks.auth import (
    AuthError,
    Authenticator,
    JtiStore,
    TrustedIssuer,
    authenticator_from_config,
    www_authenticate,
)

from . import SHARED_EXAMPLES

ISS = "https://ehr.example.org"
AUD = "https://cds.example.org/cds-services/ldn-order-sign-1"
SANDBOX_JWKS = SHARED_EXAMPLES / "sandbox-jwks.json"
SANDBOX_ISS = "https://sandbox.cds-hooks.org"
SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"


# -- keys ---------------------------------------------------------------------------------------

class Keys:
    """Key pairs generated once per module (RSA generation is the slow part)."""

    def __init__(self) -> None:
        self.ec = ec.generate_private_key(ec.SECP384R1())
        self.ec_rotated = ec.generate_private_key(ec.SECP384R1())
        self.ec256 = ec.generate_private_key(ec.SECP256R1())
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.attacker = ec.generate_private_key(ec.SECP384R1())


def public_jwk(private_key: Any, kid: str, alg: str | None = None) -> dict[str, Any]:
    public = private_key.public_key()
    loader = ECAlgorithm if isinstance(public, ec.EllipticCurvePublicKey) else RSAAlgorithm
    jwk = loader.to_jwk(public, as_dict=True)
    jwk.update(kid=kid, use="sig")
    if alg:
        jwk["alg"] = alg
    return jwk


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def jwks(keys: Keys) -> dict[str, Any]:
    return {"keys": [public_jwk(keys.ec, "ec-1", "ES384"), public_jwk(keys.rsa, "rsa-1", "RS384"),
                     public_jwk(keys.ec256, "ec256-1")]}


# -- a JWK Set server on loopback ---------------------------------------------------------------

class KeyServer:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, float]] = {}
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.hits[self.path] += 1
                status, body, delay = server.routes.get(self.path, (404, b"{}", 0.0))
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def serve(self, path: str, document: Any, status: int = 200, delay: float = 0.0) -> str:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.routes[path] = (status, body, delay)
        return self.url(path)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.stop()


@pytest.fixture()
def server(key_server: KeyServer, jwks: dict[str, Any]) -> KeyServer:
    key_server.routes.clear()
    key_server.hits.clear()
    key_server.serve("/jwks", jwks)
    return key_server


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # The default httpx client honours proxy variables; loopback must be reached directly.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


# -- clock, authenticators, tokens --------------------------------------------------------------

class Clock:
    """Real time plus an offset the test can advance (cache TTLs and cool-downs without sleeping)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def make_auth(clock: Clock) -> Iterator[Callable[..., Authenticator]]:
    made: list[Authenticator] = []

    def make(*issuers: TrustedIssuer, **options: Any) -> Authenticator:
        options.setdefault("clock", clock)
        auth = Authenticator(issuers, **options)
        made.append(auth)
        return auth

    yield make
    for auth in made:
        auth.close()


@pytest.fixture()
def auth(make_auth: Callable[..., Authenticator], server: KeyServer) -> Authenticator:
    return make_auth(TrustedIssuer(ISS, jwks_url=server.url("/jwks")))


def sign(private_key: Any, alg: str = "ES384", kid: str = "ec-1", *, now: float | None = None,
         drop: tuple[str, ...] = (), headers: dict[str, Any] | None = None, **claims: Any) -> str:
    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {"iss": ISS, "sub": "ehr-client", "aud": AUD, "iat": issued,
                               "exp": issued + 300, "jti": str(uuid.uuid4()), "tenant": "clinic-7"}
    payload.update(claims)
    for name in drop:
        payload.pop(name)
    return jwt.encode(payload, private_key, algorithm=alg, headers={"kid": kid, "typ": "JWT", **(headers or {})})


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned_parts(alg: str, kid: str = "ec-1") -> tuple[str, dict[str, Any]]:
    now = int(time.time())
    payload = {"iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    return f"{b64({'alg': alg, 'typ': 'JWT', 'kid': kid})}.{b64(payload)}", payload


def refused(auth: Authenticator, header: str | None, audience: str = AUD) -> AuthError:
    with pytest.raises(AuthError) as caught:
        auth.verify(header, audience)
    error = caught.value
    if header and header.split():  # the token never reaches the reason or the log context
        token = header.split()[-1]
        signature = token.split(".")[-1] if token.count(".") == 2 else ""
        for text in (str(error), repr(error), json.dumps(error.context)):
            assert token not in text
            assert len(signature) < 8 or signature not in text
    return error


def bearer(token: str) -> str:
    return f"Bearer {token}"


# -- accepted tokens ----------------------------------------------------------------------------

def test_valid_es384_token_gives_its_claims(auth: Authenticator, keys: Keys, server: KeyServer) -> None:
    claims = auth.verify(bearer(sign(keys.ec)), AUD)
    assert claims["iss"] == ISS and claims["aud"] == AUD and claims["tenant"] == "clinic-7"
    assert server.hits["/jwks"] == 1


def test_valid_rs384_token(auth: Authenticator, keys: Keys) -> None:
    assert auth.verify(bearer(sign(keys.rsa, "RS384", "rsa-1")), AUD)["sub"] == "ehr-client"


@pytest.mark.parametrize(("alg", "kid", "key"), [("ES256", "ec256-1", "ec256"), ("PS384", "rsa-1", "rsa_any")])
def test_other_asymmetric_algorithms_are_accepted(make_auth: Callable[..., Authenticator], keys: Keys,
                                                  alg: str, kid: str, key: str) -> None:
    # A JWK without "alg" may serve any algorithm of its type (the RSA key here has no alg).
    static = {"keys": [public_jwk(keys.ec256, "ec256-1"), public_jwk(keys.rsa, "rsa-1")]}
    auth = make_auth(TrustedIssuer(ISS, jwks=static))
    private = keys.ec256 if key == "ec256" else keys.rsa
    assert auth.verify(bearer(sign(private, alg, kid)), AUD)["iss"] == ISS


def test_sub_is_optional_as_in_cds_hooks_2(auth: Authenticator, keys: Keys) -> None:
    # CDS Hooks 2.0.1 lists iss, aud, exp, iat, jti (and optional tenant); the sandbox sends no sub.
    claims = auth.verify(bearer(sign(keys.ec, drop=("sub", "tenant"))), AUD)
    assert "sub" not in claims


def test_audience_may_be_a_list_holding_the_service_url(auth: Authenticator, keys: Keys) -> None:
    token = sign(keys.ec, aud=["https://other.example.org/cds-services", AUD])
    assert auth.verify(bearer(token), AUD)["jti"]


def test_scheme_is_case_insensitive(auth: Authenticator, keys: Keys) -> None:
    assert auth.verify(f"bearer {sign(keys.ec)}", AUD)


def test_clock_skew_within_leeway_is_tolerated(auth: Authenticator, keys: Keys) -> None:
    now = time.time()
    assert auth.verify(bearer(sign(keys.ec, now=now + 20)), AUD)  # iat 20 s ahead
    assert auth.verify(bearer(sign(keys.ec, now=now - 310)), AUD)  # expired 10 s ago


# -- claims -------------------------------------------------------------------------------------

def test_wrong_audience_is_refused(auth: Authenticator, keys: Keys) -> None:
    assert refused(auth, bearer(sign(keys.ec)), AUD.replace("order-sign", "order-select")).reason == "audience mismatch"
    listed = sign(keys.ec, aud=["https://cds.example.org/cds-services"])
    assert refused(auth, bearer(listed)).reason == "audience mismatch"
    assert refused(auth, bearer(sign(keys.ec, drop=("aud",)))).reason == "aud missing"
    assert refused(auth, bearer(sign(keys.ec, aud=[AUD, 7]))).reason == "aud malformed"


def test_expired_token_is_refused(auth: Authenticator, keys: Keys) -> None:
    token = sign(keys.ec, now=time.time() - 400)  # exp 100 s ago, beyond the 30 s leeway
    assert refused(auth, bearer(token)).reason == "token expired"


def test_iat_in_the_future_beyond_leeway_is_refused(auth: Authenticator, keys: Keys) -> None:
    assert refused(auth, bearer(sign(keys.ec, now=time.time() + 120))).reason == "iat in the future"


def test_nbf_in_the_future_is_refused(auth: Authenticator, keys: Keys) -> None:
    assert refused(auth, bearer(sign(keys.ec, nbf=int(time.time()) + 120))).reason == "token not yet valid (nbf)"


def test_lifetime_longer_than_five_minutes_is_refused(auth: Authenticator, keys: Keys) -> None:
    now = int(time.time())
    assert refused(auth, bearer(sign(keys.ec, exp=now + 3600))).reason == "token lifetime too long"
    assert refused(auth, bearer(sign(keys.ec, iat=now - 1000, exp=now + 60))).reason == "token lifetime too long"
    assert refused(auth, bearer(sign(keys.ec, iat=now, exp=now - 10))).reason == "exp before iat"


@pytest.mark.parametrize("claim", ["jti", "exp", "iat", "iss"])
def test_missing_required_claim_is_refused(auth: Authenticator, keys: Keys, claim: str) -> None:
    assert refused(auth, bearer(sign(keys.ec, drop=(claim,)))).reason == f"{claim} missing"


@pytest.mark.parametrize(("claims", "reason"), [
    ({"exp": "tomorrow"}, "exp not a number"),
    ({"iat": True}, "iat not a number"),
    ({"exp": 10 ** 400}, "exp not a number"),
    ({"jti": 12345}, "jti malformed"),
    ({"jti": "x" * 600}, "jti malformed"),
    ({"jti": ""}, "jti missing"),
    ({"sub": 42}, "sub not a string"),
    ({"tenant": {"id": 1}}, "tenant not a string"),
])
def test_malformed_claims_are_refused(auth: Authenticator, keys: Keys, claims: dict[str, Any], reason: str) -> None:
    assert refused(auth, bearer(sign(keys.ec, **claims))).reason == reason


def test_replayed_jti_is_refused(auth: Authenticator, keys: Keys) -> None:
    token = sign(keys.ec)
    auth.verify(bearer(token), AUD)
    assert refused(auth, bearer(token)).reason == "token replayed"
    again = sign(keys.ec, jti=jwt.decode(token, options={"verify_signature": False})["jti"])
    assert refused(auth, bearer(again)).reason == "token replayed"  # a new token with an old jti


def test_a_refused_token_does_not_use_up_its_jti(auth: Authenticator, keys: Keys) -> None:
    token = sign(keys.ec, jti="shared-jti")
    refused(auth, bearer(token), "https://cds.example.org/cds-services/other")
    assert auth.verify(bearer(token), AUD)["jti"] == "shared-jti"


# -- algorithms and signatures ------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_alg_none_is_refused(auth: Authenticator, alg: str) -> None:
    signing_input, _ = unsigned_parts(alg)
    assert refused(auth, bearer(signing_input + ".")).reason == "alg not allowed"


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_with_the_public_key_as_secret_is_refused(auth: Authenticator, keys: Keys, server: KeyServer,
                                                        alg: str) -> None:
    # Algorithm confusion: an attacker HMACs with the published public key as the shared secret.
    pem = keys.rsa.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input, _ = unsigned_parts(alg, kid="rsa-1")
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    token = f"{signing_input}.{b64(hmac.new(pem, signing_input.encode(), digest).digest())}"
    assert refused(auth, bearer(token)).reason == "alg not allowed"
    assert server.hits["/jwks"] == 0


def test_signature_by_another_key_is_refused(auth: Authenticator, keys: Keys) -> None:
    assert refused(auth, bearer(sign(keys.attacker))).reason == "signature invalid"


def test_tampered_payload_is_refused(auth: Authenticator, keys: Keys) -> None:
    header, payload, signature = sign(keys.ec).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["tenant"] = "another-clinic"
    assert refused(auth, bearer(f"{header}.{b64(claims)}.{signature}")).reason == "signature invalid"


def test_key_of_the_wrong_type_or_curve_is_refused(auth: Authenticator, keys: Keys) -> None:
    # kid names an EC key but the header claims RSA; an ES256 header on the P-384 key.
    assert refused(auth, bearer(sign(keys.rsa, "RS384", "ec-1"))).reason == "key does not match alg"
    assert refused(auth, bearer(sign(keys.ec256, "ES256", "ec-1"))).reason == "key does not match alg"
    # The JWK says RS384: an RS256 token on that key is refused.
    assert refused(auth, bearer(sign(keys.rsa, "RS256", "rsa-1"))).reason == "key does not match alg"


def test_crit_header_is_refused(auth: Authenticator, keys: Keys) -> None:
    token = sign(keys.ec, headers={"crit": ["exp"], "exp": 1})
    assert refused(auth, bearer(token)).reason == "crit header not supported"


def test_missing_kid_is_refused(auth: Authenticator, keys: Keys) -> None:
    now = int(time.time())
    token = jwt.encode({"iss": ISS, "aud": AUD, "iat": now, "exp": now + 60, "jti": "k"}, keys.ec, algorithm="ES384")
    assert refused(auth, bearer(token)).reason == "kid missing"


# -- issuers and key sources --------------------------------------------------------------------

def test_unknown_issuer_is_refused_without_fetching_anything(auth: Authenticator, keys: Keys, server: KeyServer) -> None:
    error = refused(auth, bearer(sign(keys.ec, iss="https://evil.example.com")))
    assert error.reason == "iss not trusted" and error.context["iss"] == "https://evil.example.com"
    assert server.hits["/jwks"] == 0


def test_unknown_kid_is_refetched_once_for_key_rotation(auth: Authenticator, keys: Keys, server: KeyServer,
                                                        jwks: dict[str, Any], clock: Clock) -> None:
    auth.verify(bearer(sign(keys.ec)), AUD)
    assert server.hits["/jwks"] == 1
    server.serve("/jwks", {"keys": [*jwks["keys"], public_jwk(keys.ec_rotated, "ec-2", "ES384")]})

    # Just fetched: an unknown kid is not worth another request yet (cool-down against floods).
    assert refused(auth, bearer(sign(keys.ec_rotated, kid="ec-2", now=clock()))).reason == "unknown kid"
    assert server.hits["/jwks"] == 1

    clock.advance(11)
    assert auth.verify(bearer(sign(keys.ec_rotated, kid="ec-2", now=clock())), AUD)["iss"] == ISS
    assert server.hits["/jwks"] == 2

    clock.advance(11)  # a kid that is nowhere: exactly one refetch, then refused
    assert refused(auth, bearer(sign(keys.attacker, kid="ec-9", now=clock()))).reason == "unknown kid"
    assert server.hits["/jwks"] == 3
    assert refused(auth, bearer(sign(keys.attacker, kid="ec-10", now=clock()))).reason == "unknown kid"
    assert server.hits["/jwks"] == 3


def test_jwks_is_cached_between_verifications(auth: Authenticator, keys: Keys, server: KeyServer, clock: Clock) -> None:
    for _ in range(3):
        auth.verify(bearer(sign(keys.ec)), AUD)
        auth.verify(bearer(sign(keys.rsa, "RS384", "rsa-1")), AUD)
    assert server.hits["/jwks"] == 1
    clock.advance(301)  # past the 300 s cache lifetime: fetched again
    auth.verify(bearer(sign(keys.ec, now=clock())), AUD)
    assert server.hits["/jwks"] == 2


def test_concurrent_first_requests_fetch_the_jwks_once(auth: Authenticator, keys: Keys, server: KeyServer) -> None:
    tokens = [sign(keys.ec) for _ in range(8)]
    results: list[Any] = []
    threads = [threading.Thread(target=lambda t=t: results.append(auth.verify(bearer(t), AUD))) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and server.hits["/jwks"] == 1


def test_jku_not_allow_listed_is_ignored(auth: Authenticator, keys: Keys, server: KeyServer) -> None:
    # The attacker publishes its own key under the issuer's kid and points jku at it.
    evil = server.serve("/evil", {"keys": [public_jwk(keys.attacker, "ec-1", "ES384")]})
    token = sign(keys.attacker, headers={"jku": evil})
    assert refused(auth, bearer(token)).reason == "signature invalid"  # checked with the configured keys
    assert server.hits["/evil"] == 0
    # A genuine token naming some other jku still verifies against the configured keys.
    assert auth.verify(bearer(sign(keys.ec, headers={"jku": evil})), AUD)
    assert server.hits["/evil"] == 0


def test_jku_not_allow_listed_is_refused_when_the_issuer_has_no_other_keys(
        make_auth: Callable[..., Authenticator], keys: Keys, server: KeyServer) -> None:
    auth = make_auth(TrustedIssuer(ISS, allowed_jku=(server.url("/jwks"),)))
    evil = server.serve("/evil", {"keys": [public_jwk(keys.attacker, "ec-1", "ES384")]})
    assert refused(auth, bearer(sign(keys.attacker, headers={"jku": evil}))).reason == "jku not allow-listed"
    assert refused(auth, bearer(sign(keys.ec))).reason == "no key source for issuer (jku required)"
    assert server.hits["/evil"] == 0 and server.hits["/jwks"] == 0


def test_allow_listed_jku_is_used(make_auth: Callable[..., Authenticator], keys: Keys, server: KeyServer,
                                  jwks: dict[str, Any]) -> None:
    jku = server.serve("/ehr/jwk_uri", jwks)
    auth = make_auth(TrustedIssuer(ISS, jwks_url=server.url("/jwks"), allowed_jku=(jku,)))
    assert auth.verify(bearer(sign(keys.ec, headers={"jku": jku})), AUD)
    assert auth.verify(bearer(sign(keys.rsa, "RS384", "rsa-1", headers={"jku": jku})), AUD)
    assert server.hits["/ehr/jwk_uri"] == 1 and server.hits["/jwks"] == 0


def test_jwks_server_down_is_an_auth_error(make_auth: Callable[..., Authenticator], keys: Keys, clock: Clock) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = make_auth(TrustedIssuer(ISS, jwks_url=f"http://127.0.0.1:{port}/jwks"))
    assert refused(auth, bearer(sign(keys.ec))).reason == "jwks unavailable (ConnectError)"
    # The failure is remembered for the cool-down: no request per token while the server is down.
    assert refused(auth, bearer(sign(keys.ec))).reason == "jwks unavailable (recent failure)"


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"error": "boom"}, 500, "jwks unavailable (HTTP 500)"),
    (b"<html>maintenance</html>", 200, "jwks unavailable (not JSON)"),
    ({"kty": "EC"}, 200, "jwks unavailable (not a JWK Set)"),
    (b"x" * 300_000, 200, "jwks unavailable (too large)"),
])
def test_broken_jwks_responses_are_auth_errors(make_auth: Callable[..., Authenticator], keys: Keys, server: KeyServer,
                                               clock: Clock, body: Any, status: int, reason: str) -> None:
    url = server.serve("/broken", body, status=status)
    auth = make_auth(TrustedIssuer(ISS, jwks_url=url))
    assert refused(auth, bearer(sign(keys.ec))).reason == reason
    server.serve("/broken", {"keys": [public_jwk(keys.ec, "ec-1")]})  # repaired
    clock.advance(11)
    assert auth.verify(bearer(sign(keys.ec, now=clock())), AUD)


def test_slow_jwks_server_times_out(make_auth: Callable[..., Authenticator], keys: Keys, server: KeyServer,
                                    jwks: dict[str, Any]) -> None:
    url = server.serve("/slow", jwks, delay=0.5)
    auth = make_auth(TrustedIssuer(ISS, jwks_url=url), jwks_timeout_seconds=0.1)
    started = time.perf_counter()
    assert refused(auth, bearer(sign(keys.ec))).reason == "jwks unavailable (ReadTimeout)"
    assert time.perf_counter() - started < 0.45


def test_sandbox_jwks_loads_as_a_static_jwks(make_auth: Callable[..., Authenticator], keys: Keys) -> None:
    auth = make_auth(TrustedIssuer(SANDBOX_ISS, jwks=json.loads(SANDBOX_JWKS.read_text())))
    sandbox_jku = {"jku": "https://sandbox.cds-hooks.org/.well-known/jwks.json"}
    # Its key is found by kid and used: a token signed by any other P-384 key fails the signature.
    forged = sign(keys.attacker, kid=SANDBOX_KID, iss=SANDBOX_ISS, drop=("sub",), headers=sandbox_jku)
    assert refused(auth, bearer(forged)).reason == "signature invalid"
    other_kid = sign(keys.ec, kid="not-the-sandbox-kid", iss=SANDBOX_ISS, headers=sandbox_jku)
    assert refused(auth, bearer(other_kid)).reason == "unknown kid"  # static set: no network


def test_sandbox_jwks_file_through_configuration(tmp_path: Path, keys: Keys) -> None:
    config = {"HOOKS_TRUSTED_ISSUERS": json.dumps([{"iss": SANDBOX_ISS, "jwks": str(SANDBOX_JWKS)}])}
    auth = authenticator_from_config(config)
    assert auth is not None and auth.issuers == (SANDBOX_ISS,)
    forged = sign(keys.attacker, kid=SANDBOX_KID, iss=SANDBOX_ISS)
    assert refused(auth, bearer(forged)).reason == "signature invalid"
    auth.close()


@pytest.mark.parametrize(("jwk", "why"), [
    ({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}, "kty 'oct'"),
    ({"kty": "EC", "crv": "P-384", "kid": "enc", "use": "enc", "x": "AA", "y": "AA"}, "use 'enc'"),
    ("private", "private key material"),
    ("rsa1024", "shorter than 2048"),
])
def test_static_jwks_without_a_usable_key_is_a_configuration_error(keys: Keys, jwk: Any, why: str) -> None:
    if jwk == "private":
        jwk = ECAlgorithm.to_jwk(keys.ec, as_dict=True) | {"kid": "leaked"}
    elif jwk == "rsa1024":
        jwk = public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024), "weak")
    with pytest.raises(ValueError, match=why):
        Authenticator([TrustedIssuer(ISS, jwks={"keys": [jwk]})])


# -- the Authorization header -------------------------------------------------------------------

@pytest.mark.parametrize(("header", "reason"), [
    (None, "authorization header missing"),
    ("", "authorization header missing"),
    ("   ", "authorization header missing"),
    ("Basic dXNlcjpwYXNz", "authorization scheme not Bearer"),
    ("Token abc.def.ghi", "authorization scheme not Bearer"),
    ("Bearer", "bearer token missing or malformed"),
    ("Bearer   ", "bearer token missing or malformed"),
    ("Bearer a.b c.d", "bearer token missing or malformed"),
    ("Bearer {not a token}", "bearer token missing or malformed"),
    ("Bearer abc", "token malformed (not a compact JWS)"),
    ("Bearer a.b.c.d.e", "token malformed (not a compact JWS)"),
    ("Bearer garbage.garbage.garbage", "token malformed (header)"),
    (f"Bearer {b64({'alg': 'ES384', 'kid': 'ec-1'})}.bm90IGpzb24.c2ln", "token malformed (payload)"),
    (f"Bearer {b64({'alg': 'ES384', 'kid': 'ec-1'})}.{b64([1, 2])}.c2ln", "token malformed (payload)"),
    ("Bearer " + "a" * 20_000 + ".b.c", "token too large"),
])
def test_malformed_authorization_headers_are_refused(auth: Authenticator, server: KeyServer,
                                                     header: str | None, reason: str) -> None:
    assert refused(auth, header).reason == reason
    assert server.hits["/jwks"] == 0


def test_a_bare_token_without_scheme_is_refused_and_not_logged(auth: Authenticator, keys: Keys) -> None:
    token = sign(keys.ec)
    error = refused(auth, token)
    assert error.reason == "authorization scheme not Bearer" and error.context == {}
    assert token[:12] not in str(error) + json.dumps(error.context)


def test_no_configured_issuer_refuses_everything(make_auth: Callable[..., Authenticator], keys: Keys) -> None:
    assert refused(make_auth(), bearer(sign(keys.ec))).reason == "no trusted issuers configured"


def test_www_authenticate_challenge() -> None:
    assert www_authenticate() == 'Bearer realm="cds-hooks"'
    assert www_authenticate(AuthError("authorization header missing")) == 'Bearer realm="cds-hooks"'
    assert www_authenticate(AuthError("signature invalid")) == 'Bearer realm="cds-hooks", error="invalid_token"'


# -- the replay store ---------------------------------------------------------------------------

def test_jti_store_remembers_until_exp_plus_leeway(clock: Clock) -> None:
    store = JtiStore(leeway_seconds=30, clock=clock)
    exp = int(clock()) + 60
    assert store.seen_before(ISS, "a", exp) is False
    assert store.seen_before(ISS, "a", exp) is True
    assert store.seen_before("https://other.example.org", "a", exp) is False  # per issuer
    clock.advance(85)
    assert store.seen_before(ISS, "a", exp) is True
    clock.advance(10)  # past exp + leeway: forgotten (the token itself is expired by then)
    assert len(store) == 0
    assert store.seen_before(ISS, "a", exp) is False


def test_jti_store_is_bounded(clock: Clock) -> None:
    store = JtiStore(max_entries=3, clock=clock)
    now = int(clock())
    for index, jti in enumerate("abcd"):
        assert store.seen_before(ISS, jti, now + 100 + index) is False
    assert len(store) == 3
    assert store.seen_before(ISS, "a", now + 100) is False  # the soonest to expire was forgotten
    assert store.seen_before(ISS, "d", now + 103) is True


def test_jti_store_is_thread_safe(clock: Clock) -> None:
    store = JtiStore(clock=clock)
    exp = int(clock()) + 60
    outcomes: list[bool] = []
    barrier = threading.Barrier(16)

    def claim() -> None:
        barrier.wait()
        outcomes.append(store.seen_before(ISS, "same", exp))

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] + [True] * 15


# -- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["off", "OFF", " Off ", False])
def test_auth_off_gives_no_authenticator(mode: Any) -> None:
    assert authenticator_from_config({"HOOKS_AUTH": mode, "HOOKS_TRUSTED_ISSUERS": "not even read"}) is None


def test_auth_mode_typo_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="HOOKS_AUTH"):
        authenticator_from_config({"HOOKS_AUTH": "disabled"})


def test_configuration_from_environment(monkeypatch: pytest.MonkeyPatch, keys: Keys, server: KeyServer) -> None:
    issuers = [{"iss": ISS, "jwks_url": server.url("/jwks"), "allowed_jku": [server.url("/jku")]},
               {"iss": SANDBOX_ISS, "jwks": json.loads(SANDBOX_JWKS.read_text())}]
    monkeypatch.setenv("LDN_CDS_HOOKS_TRUSTED_ISSUERS", json.dumps(issuers))
    monkeypatch.setenv("LDN_CDS_HOOKS_AUTH_LEEWAY_SECONDS", "5")
    app = Flask(__name__)
    app.config.from_prefixed_env("LDN_CDS")
    auth = authenticator_from_config(app.config)
    assert auth is not None and auth.issuers == (ISS, SANDBOX_ISS) and auth.leeway_seconds == 5
    assert auth.verify(bearer(sign(keys.ec)), AUD)["iss"] == ISS
    assert refused(auth, bearer(sign(keys.ec, now=time.time() + 20))).reason == "iat in the future"
    auth.close()


def test_configuration_from_a_file(tmp_path: Path, server: KeyServer) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps({"iss": ISS, "jwks_url": server.url("/jwks")}))
    auth = authenticator_from_config({"HOOKS_TRUSTED_ISSUERS": str(path)})
    assert auth is not None and auth.issuers == (ISS,)
    auth.close()


def test_missing_issuer_list_gives_an_authenticator_that_refuses_all() -> None:
    auth = authenticator_from_config({})
    assert auth is not None and auth.issuers == ()
    auth.close()


@pytest.mark.parametrize(("issuers", "message"), [
    ("[{", "not valid JSON"),
    ("/nonexistent/issuers.json", "cannot read"),
    ([{"jwks_url": "https://ehr.example.org/jwks"}], r"\[0\]: trusted issuer: iss"),
    ([{"iss": ISS}], "give jwks_url, jwks or allowed_jku"),
    ([{"iss": ISS, "jwks_uri": "https://ehr.example.org/jwks"}], "unknown field"),
    ([{"iss": ISS, "jwks_url": "http://ehr.example.org/jwks"}], "https"),
    ([{"iss": ISS, "allowed_jku": ["ftp://ehr.example.org/jwks"]}], "https"),
    ([{"iss": ISS, "jwks": {"keys": []}}], "no usable signature key"),
    ([{"iss": ISS, "jwks": {"kid": "x"}}], "not a JWK Set"),
    ([{"iss": ISS, "jwks_url": "https://a.example/jwks"}, {"iss": ISS, "jwks_url": "https://b.example/jwks"}],
     "listed twice"),
    (7, "must be a list"),
])
def test_malformed_issuer_configuration_is_reported(issuers: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        authenticator_from_config({"HOOKS_TRUSTED_ISSUERS": issuers})


def test_malformed_numeric_setting_is_reported() -> None:
    with pytest.raises(ValueError, match="HOOKS_AUTH_LEEWAY_SECONDS"):
        authenticator_from_config({"HOOKS_AUTH_LEEWAY_SECONDS": "half a minute"})
