"""The portal in a real browser: Debian's chromium and chromium-driver, driven by selenium, headless.

A platform admin creates two tenants; acme's admin accepts the invitation, signs in through acme's realm (the
authorization code flow with PKCE), creates an org and a project, is refused a quota with its arithmetic, allocates a
node, and invites a user; a form without its CSRF token gets 403; the invited user accepts, signs in, gets 404 on the
other tenant's pages, previews and places a model, creates an API key, sends a request through the official openai
client, and watches the cluster page show the model serving. Screenshots of each main page go to $SCREENSHOTS.

Environment: BASE (the controller's URL as the browser reaches it), ADMIN_PASSWORD, MODEL, NODE, SCREENSHOTS.
Exit status 0 when every step held; each step prints one line.
"""
import os
import re
import sys
import time

import openai
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["BASE"].rstrip("/")
ADMIN_PASSWORD = os.environ["ADMIN_PASSWORD"]
MODEL = os.environ.get("MODEL", "HuggingFaceTB/SmolLM2-135M-Instruct")
NODE = os.environ.get("NODE", "gpu-node-1")
SCREENSHOTS = os.environ.get("SCREENSHOTS", "")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu",
                     "--no-first-run", "--disable-extensions"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


d = browser()
d.set_page_load_timeout(60)


def step(text):
    print("ok:", text, flush=True)


def fail(text):
    print("FAILED:", text, flush=True)
    print("at", d.current_url, flush=True)
    print(d.find_element(By.TAG_NAME, "body").text[:3000], flush=True)
    d.quit()
    sys.exit(1)


def expect(condition, text):
    if not condition:
        fail(text)


def click_and_load(element):
    """Clicks a button or link and waits for the next page to be there (a click does not wait for the navigation)."""
    old = d.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(driver):
        try:
            old.tag_name
            return False
        except WebDriverException:  # stale, or (in this chromium) "does not belong to the document": the page changed
            return True
    WebDriverWait(d, 60).until(replaced)
    WebDriverWait(d, 60).until(lambda driver: driver.execute_script("return document.readyState") == "complete")


def heading():
    return d.find_element(By.TAG_NAME, "h1").text


def page_text():
    return d.find_element(By.TAG_NAME, "body").text


def shot(name):
    if SCREENSHOTS:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        height = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(1280, min(max(height, 700), 3200))
        d.save_screenshot(os.path.join(SCREENSHOTS, name + ".png"))
        d.set_window_size(1280, 1000)


def form(legend):
    """The form whose fieldset has this legend."""
    for fieldset in d.find_elements(By.TAG_NAME, "fieldset"):
        if fieldset.find_element(By.TAG_NAME, "legend").text == legend:
            return fieldset.find_element(By.XPATH, "./ancestor::form")
    fail("no form " + legend)


def fill(legend, values, selects=None):
    f = form(legend)
    for name, value in values.items():
        field = f.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    for name, label in (selects or {}).items():
        Select(f.find_element(By.NAME, name)).select_by_visible_text(label)
    click_and_load(f.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def shown_once():
    return d.find_element(By.CSS_SELECTOR, ".secret code").text


def sign_in(realm, username, password, landing):
    d.get(BASE + "/portal")
    field = d.find_element(By.NAME, "realm")
    field.clear()
    field.send_keys(realm)
    click_and_load(d.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    expect("/realms/%s/protocol/openid-connect/auth" % realm in d.current_url, "the portal sends the browser to %s's sign-in page" % realm)
    d.find_element(By.NAME, "username").send_keys(username)
    d.find_element(By.NAME, "password").send_keys(password)
    click_and_load(d.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    expect(d.current_url.startswith(BASE + landing), "signed in to %s, %s lands on %s (at %s)" % (realm, username, landing, d.current_url))


def sign_out():
    click_and_load(d.find_element(By.CSS_SELECTOR, "form.signout button"))
    expect(heading() == "Sign in", "signed out")


def wait_for(check, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(1)
    fail("waited %d s for %s" % (seconds, what))


# 1. The super-admin: two tenants, the fleet, the audit log.
d.get(BASE + "/portal/signin?realm=platform")
shot("sign-in")
sign_in("platform", "admin", ADMIN_PASSWORD, "/portal/admin")
shot("admin-overview")
step("the platform admin signed in through the platform realm")
d.get(BASE + "/portal/admin/tenants")
fill("Create a tenant", {"name": "Globex", "slug": "globex", "admin": "gadmin"})
expect("Tenant globex created" in page_text(), "globex created")
fill("Create a tenant", {"name": "Acme", "slug": "acme", "admin": "boss", "nodes": "4"})
expect("Tenant acme created: ready" in page_text(), "acme created and ready")
acme_invitation = shown_once()
expect("/portal/invitation?token=" in acme_invitation, "the admin's invitation link is shown once")
shot("admin-tenants")
step("two tenants created from the portal, with their onboarding steps and the admin's invitation link")
d.get(BASE + "/portal/admin/nodes")
expect(NODE in page_text(), "the fleet lists " + NODE)
shot("admin-nodes")
click_and_load(d.find_element(By.LINK_TEXT, NODE))
expect(heading() == "Node " + NODE, "the node's page")
shot("admin-node")
d.get(BASE + "/portal/admin/audit?action=tenants.create")
expect("tenants.create" in page_text(), "the audit log records the portal's tenant creations")
shot("admin-audit")
for path in ["/portal/admin/pools", "/portal/admin/incidents", "/portal/admin/backups"]:
    d.get(BASE + path)
    expect(heading() in ["VRF and VLAN pools", "Incidents and alerts", "Backups"], path)
    shot("admin-" + path.rsplit("/", 1)[1])
step("the fleet, a node, pools, incidents, backups and the audit log render")
sign_out()

# 2. Acme's admin accepts the invitation and signs in through acme's realm.
d.get(acme_invitation)
fill_fields = {"password": "boss-password-1", "confirm": "boss-password-1"}
f = d.find_element(By.CSS_SELECTOR, "main form")
for name, value in fill_fields.items():
    f.find_element(By.NAME, name).send_keys(value)
click_and_load(f.find_element(By.CSS_SELECTOR, "button[type=submit]"))
expect(heading() == "Welcome, boss", "the invitation is accepted")
sign_in("acme", "boss", "boss-password-1", "/portal/t/acme")
step("acme's admin accepted the invitation and signed in through acme's realm (code flow with PKCE)")

# 3. An org, a project, a refused quota, a node.
fill("Create an org", {"name": "Research", "slug": "research"})
expect("Org Research created" in page_text(), "org created")
fill("Create a project", {"name": "Chat", "slug": "chat"}, {"org": "Research"})
expect("Project Chat created" in page_text(), "project created")
fill("Set a quota", {"limit": "2"}, {"scope": "org Research", "resource": "nodes"})
expect("The org's nodes limit is 2." in page_text(), "the org's quota set")
fill("Set a quota", {"limit": "10"}, {"scope": "project Chat", "resource": "nodes"})
expect("asks 10 nodes" in page_text() and "quota_exceeded" in page_text(), "a quota over the tenant's is refused with its arithmetic")
shot("tenant-overview")
step("an org and a project created; a quota of 10 nodes refused with its arithmetic")
click_and_load(d.find_element(By.LINK_TEXT, "Chat"))
project_url = d.current_url
fill("Allocate nodes", {"names": NODE})
expect("Allocated " + NODE in page_text(), "node allocated to the project")
step("%s allocated to the project" % NODE)

# 4. An invitation; a form without its CSRF token is refused.
d.get(BASE + "/portal/t/acme/users")
fill("Invite a user", {"username": "ana"}, {"role": "project-admin", "scope": "project Chat"})
ana_invitation = shown_once()
shot("tenant-users")
step("ana invited as the project's admin")
d.execute_script("for (const i of document.querySelectorAll('input[name=csrf_token]')) i.remove();")
fill("Invite a user", {"username": "mallory"})
expect(heading() == "Not allowed" and "csrf_token_missing" in page_text(), "a form without its CSRF token is refused")
d.get(BASE + "/portal/t/acme/users")
expect("mallory" not in page_text(), "the refused form changed nothing")
step("a form without its CSRF token got 403 and changed nothing")
sign_out()

# 5. Ana accepts, signs in, and cannot see the other tenant.
d.get(ana_invitation)
f = d.find_element(By.CSS_SELECTOR, "main form")
f.find_element(By.NAME, "password").send_keys("ana-password-1")
f.find_element(By.NAME, "confirm").send_keys("ana-password-1")
click_and_load(f.find_element(By.CSS_SELECTOR, "button[type=submit]"))
expect(heading() == "Welcome, ana", "ana's invitation accepted")
sign_in("acme", "ana", "ana-password-1", "/portal/t/acme")
expect("Chat" in page_text(), "ana sees her project")
for path in ["/portal/t/globex", "/account/cluster/globex", "/portal/t/globex/users"]:
    d.get(BASE + path)
    expect(heading() == "Not found", "another tenant's page %s answers 404" % path)
step("ana signed in; globex's pages answer 404 to her")
d.get(BASE + "/portal/me")
expect(heading() == "Your account" and "(this browser)" in page_text(), "ana sees her sessions, this browser's marked")
shot("account")
step("ana's account page lists her sessions")

# 6. Ana previews and places the model, makes a key, sends a request, watches the cluster page.
d.get(project_url)
fill("Place a model", {"model_id": MODEL})
expect("placeable" in page_text(), "the preview shows a placeable layout")
shot("tenant-placement-preview")
click_and_load(d.find_element(By.XPATH, "//button[starts-with(., 'Place ')]"))
expect("is placed" in page_text(), "the model is placed")
fill("Create an API key", {"name": "chat-app"})
key = shown_once()
expect(key.startswith("mp"), "the key is shown once")
step("the model previewed and placed; an API key created")
d.get(BASE + "/account/cluster/acme")
wait_for(lambda: (d.refresh() or True) and "(serving)" in page_text(), 90, "the cluster page to show the model serving")
client = openai.OpenAI(base_url=BASE + "/v1", api_key=key)
for question in ["Hello", "What is a GPU?", "Name a colour.", "Count to three.", "Say goodbye."]:
    answer = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": question}], max_tokens=16)
    expect(answer.choices and answer.usage.total_tokens > 0, "the openai client got an answer")
step("the openai client got answers through the router")
d.get(project_url)
wait_for(lambda: (d.refresh() or True) and re.search(r"chat-app|apk_|key_", page_text()) is not None and "No requests yet." not in page_text(), 30,
         "the project's usage to count the request")
shot("tenant-project")
d.get(BASE + "/portal/t/acme/usage")
expect(MODEL in page_text(), "the usage page counts the model")
shot("tenant-usage")
d.get(BASE + "/account/cluster/acme")
# The requests reach the cluster page with the node's next telemetry batch (the router's latencies ride on it).
wait_for(lambda: (d.refresh() or True) and re.search(r"Requests \(1 h\)\s*[1-9]", page_text()) is not None, 60,
         "the cluster page to count the requests")
expect(NODE in page_text() and MODEL + " (serving)" in page_text(), "the cluster page shows where the model serves")
expect(len(d.find_elements(By.CSS_SELECTOR, "svg.chart")) >= 4, "the cluster page draws its charts")
shot("cluster")
step("the cluster page shows %s serving on %s, with its charts" % (MODEL, NODE))
d.quit()
print("all portal steps passed", flush=True)
