"""The authorization code flow with PKCE, driven by authlib (an independent OAuth/OIDC library) from the
discovery URL alone, the way a web app signs its users in: the sign-in page is read and its form submitted
as a browser would. Prints one line per outcome; exits 1 on the first surprise."""
import html
import re
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
import warnings
warnings.simplefilter("ignore")  # authlib.jose says it will move to joserfc; it works as documented
from authlib.jose import JsonWebKey, jwt  # noqa: E402

base, realm, client_id, redirect, username, password = sys.argv[1:7]
discovery = requests.get(f"{base}/realms/{realm}/.well-known/openid-configuration", timeout=10).json()
assert "code" in discovery["response_types_supported"] and "S256" in discovery["code_challenge_methods_supported"], discovery


def session(redirect_uri=redirect):
    return OAuth2Session(client_id, redirect_uri=redirect_uri, scope="openid profile email", code_challenge_method="S256",
                         token_endpoint_auth_method="none")


def sign_in(client, verifier, nonce, secret=password):
    """Opens the authorization URL, submits the sign-in form; returns (the form's answer, the URL's state)."""
    url, state = client.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    browser = requests.Session()  # the sign-in form's cookie comes back with the form, as in a browser
    page = browser.get(url, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"], (page.status_code, page.text[:300])
    assert "default-src 'none'" in page.headers["content-security-policy"]
    fields = {name: html.unescape(value) for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
    fields.update(username=username, password=secret)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    answer = browser.post(base + action, data=fields, allow_redirects=False, timeout=10)
    if secret == password:
        # The same form posted without the page's cookie (from another site): refused before any password is checked.
        forged = requests.post(base + action, data=fields, allow_redirects=False, timeout=10)
        assert forged.status_code == 403 and "location" not in forged.headers, forged.status_code
    return answer, state


def refused(call):
    try:
        call()
    except OAuthError as error:
        return error.error
    return None


jwks = JsonWebKey.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())

# 1. The flow: a code at the registered redirect URI with the state, tokens for it, an id_token with the nonce.
client, verifier, nonce = session(), generate_token(48), generate_token(16)
answer, state = sign_in(client, verifier, nonce)
assert answer.status_code == 302, (answer.status_code, answer.text[:300])
location = answer.headers["location"]
assert location.startswith(redirect + "?") and f"state={state}" in location, location
token = client.fetch_token(discovery["token_endpoint"], authorization_response=location, code_verifier=verifier)
claims = jwt.decode(token["id_token"], jwks, claims_options={"iss": {"essential": True, "value": discovery["issuer"]},
                                                           "aud": {"essential": True, "value": client_id},
                                                           "nonce": {"essential": True, "value": nonce}})
claims.validate()
print(f"signed in: sub={claims['sub']} name={claims['preferred_username']} nonce ok")
me = requests.get(discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10)
assert me.status_code == 200 and me.json()["preferred_username"] == username, me.text
print("userinfo answers for the access token")

# 2. The same code again: refused, and the tokens it produced are revoked.
error = refused(lambda: client.fetch_token(discovery["token_endpoint"], authorization_response=location, code_verifier=verifier))
assert error == "invalid_grant", error
me = requests.get(discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10)
assert me.status_code == 401, (me.status_code, me.text)
print("code used twice refused; its tokens revoked")

# 3. A wrong verifier: refused.
client, verifier = session(), generate_token(48)
answer, _ = sign_in(client, verifier, generate_token(16))
error = refused(lambda: client.fetch_token(discovery["token_endpoint"], authorization_response=answer.headers["location"],
                                           code_verifier=generate_token(48)))
assert error == "invalid_grant", error
print("wrong verifier refused")

# 4. An unregistered redirect URI: a page for the person, never a redirect.
url, _ = session("http://127.0.0.1:9/elsewhere").create_authorization_url(discovery["authorization_endpoint"], code_verifier=generate_token(48))
page = requests.get(url, allow_redirects=False, timeout=10)
assert page.status_code == 422 and "location" not in page.headers and "redirect_uri" in page.text, (page.status_code, page.text[:300])
print("unregistered redirect refused")

# 5. A wrong password: the form again with 401 and no code.
answer, _ = sign_in(session(), generate_token(48), generate_token(16), secret="not-the-password")
assert answer.status_code == 401 and "location" not in answer.headers and "Wrong username or password" in answer.text, answer.status_code
print("wrong password refused")

# 6. A public client without PKCE: refused.
plain = OAuth2Session(client_id, redirect_uri=redirect, scope="openid", token_endpoint_auth_method="none")
url, _ = plain.create_authorization_url(discovery["authorization_endpoint"])
page = requests.get(url, timeout=10)
assert page.status_code == 422 and "code_challenge" in page.text, (page.status_code, page.text[:300])
print("public client without PKCE refused")
print("a form without its page's cookie refused")

# 7. RP-initiated logout: the id_token ends its session and the browser goes to the registered URI with the state.
client, verifier, nonce = session(), generate_token(48), generate_token(16)
answer, _ = sign_in(client, verifier, nonce)
token = client.fetch_token(discovery["token_endpoint"], authorization_response=answer.headers["location"], code_verifier=verifier)
out = requests.get(discovery["end_session_endpoint"], params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": redirect,
                                                               "state": "bye"}, allow_redirects=False, timeout=10)
assert out.status_code == 302 and out.headers["location"] == redirect + "?state=bye", (out.status_code, out.headers, out.text[:200])
me = requests.get(discovery["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10)
assert me.status_code == 401, me.status_code
refresh = requests.post(discovery["token_endpoint"], data={"grant_type": "refresh_token", "client_id": client_id,
                                                            "refresh_token": token["refresh_token"]}, timeout=10)
assert refresh.status_code == 400, refresh.status_code
elsewhere = requests.get(discovery["end_session_endpoint"], params={"id_token_hint": token["id_token"],
                                                                     "post_logout_redirect_uri": "http://127.0.0.1:9/elsewhere"},
                         allow_redirects=False, timeout=10)
assert elsewhere.status_code == 422 and "location" not in elsewhere.headers, elsewhere.status_code
print("logout ended the session and redirected to the registered URI")
