"""Verifies Metalplane access tokens with PyJWT, a standard JWT/OIDC library, using only the
realm's discovery document and JWKS. Run by the Swift suite (PortalTests) against a live controller.

usage: verify_jwt.py BASE_URL REALM TOKEN [OTHER_REALM_TOKEN]
Exits 0 when the token verifies, a tampered copy is rejected, and (if given) the other realm's
token is rejected by this realm's keys.
"""
import json
import sys
import urllib.request

import jwt
from jwt import PyJWKClient


def main() -> int:
    base, realm, token = sys.argv[1], sys.argv[2], sys.argv[3]
    other = sys.argv[4] if len(sys.argv) > 4 else None
    with urllib.request.urlopen(f"{base}/realms/{realm}/.well-known/openid-configuration") as response:
        discovery = json.load(response)
    jwks = PyJWKClient(discovery["jwks_uri"])

    def verify(candidate: str) -> dict:
        key = jwks.get_signing_key_from_jwt(candidate)
        return jwt.decode(candidate, key.key, algorithms=["RS256", "ES256"], audience="metalplane", issuer=discovery["issuer"],
                          options={"require": ["exp", "iat", "iss", "sub", "aud", "jti"]})

    claims = verify(token)
    assert claims["iss"] == discovery["issuer"], claims
    print(f"verified: sub={claims['sub']} roles={claims.get('realm_access', {}).get('roles')}")

    header, payload, signature = token.split(".")
    forged = dict(claims, sub="someone-else")
    forged_payload = jwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
    for tampered in (f"{header}.{forged_payload}.{signature}", f"{header}.{payload}.{signature[:-4]}AAAA"):
        try:
            verify(tampered)
        except jwt.PyJWTError as error:
            print(f"tampered token rejected: {type(error).__name__}")
        else:
            print("FAIL: tampered token accepted")
            return 1

    if other:
        try:
            verify(other)
        except jwt.PyJWTError as error:
            print(f"other realm's token rejected: {type(error).__name__}")
        else:
            print("FAIL: another realm's token accepted")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
