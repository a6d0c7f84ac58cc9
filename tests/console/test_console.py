"""The web console in chromium: what a user sees and does, against the real server."""

import json
import re
import urllib.error
import urllib.request

from conftest import make_ca
from playwright.sync_api import expect


def api(server, method, path, body=None, key=None):
    """The same API the console calls, straight over HTTP: (status, JSON body)."""
    request = urllib.request.Request(
        f"{server.base_url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key or server.key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_page_is_served_with_a_strict_policy_and_no_caching(console):
    response = console.open()
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    script = console.page.locator("script[type=module]").get_attribute("src")
    assert re.fullmatch(r"/assets/[0-9a-f]{16}/app\.js", script), script
    asset = console.page.request.get(console.origin + script)
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    # The API is unchanged: an unknown /v1 route is still its JSON 404.
    status, body = api(console.server, "GET", "/nothing-here")
    assert status == 404 and body["error"]["message"] == "Invalid URL (GET /v1/nothing-here)"
    expect(console.page.get_by_label("Admin API key")).to_be_visible()
    console.screenshot("sign-in")


def test_a_wrong_key_shows_the_apis_message_and_is_not_kept(console):
    console.expected_statuses.add(401)
    wrong = "sk-admin-" + "x" * 48
    status, body = api(console.server, "GET", "/organization/certificates", key=wrong)
    assert status == 401
    console.open()
    console.sign_in(wrong)
    alert = console.page.get_by_role("alert")
    expect(alert).to_have_text(body["error"]["message"])
    assert console.page.evaluate("sessionStorage.length") == 0
    expect(console.page.get_by_role("button", name="Sign in")).to_be_visible()


def test_sign_in_upload_activate_for_a_project_audit_and_sign_out(console, tmp_path):
    page = console.page
    console.open()
    console.sign_in()
    expect(page.get_by_role("heading", name="Certificates", level=1)).to_be_visible()
    assert page.evaluate("Object.values(sessionStorage)") == [console.server.key]
    assert console.server.key not in page.url
    assert console.context.cookies() == []

    pem = tmp_path / "corporate-root.pem"
    pem.write_text(make_ca("Corporate Root CA", days_valid=200))
    page.get_by_label("Drop a PEM file here").set_input_files(str(pem))
    page.get_by_label("Name (optional)").fill("Corporate root")
    page.get_by_role("button", name="Upload certificate").click()
    expect(page.get_by_role("status")).to_contain_text("Uploaded Corporate root")
    row = page.get_by_role("row").filter(has_text="Corporate root")
    expect(row.get_by_role("cell").nth(4)).to_have_text(re.compile(r"^(199|200) days$"))
    expect(row).to_contain_text("Inactive")
    expect(page.locator("ol.expiring")).to_contain_text("Corporate root")
    cert_id = row.locator("code.id").inner_text()
    # Two more anchors, uploaded over the API, show the warning colours of the timeline.
    for name, days in [("Partner CA", 60), ("Legacy VPN CA", 12)]:
        status, _ = api(console.server, "POST", "/organization/certificates",
                        {"certificate": make_ca(name, days_valid=days), "name": name})
        assert status == 200
    page.reload()
    expect(page.get_by_role("row").filter(has_text="Partner CA")).to_contain_text("Renew soon")
    expect(page.get_by_role("row").filter(has_text="Legacy VPN CA")).to_contain_text("Expires soon")
    expect(page.locator("ol.expiring li")).to_have_count(3)
    console.screenshot("certificates")

    page.get_by_role("link", name="Projects").click()
    page.get_by_label("Project name").fill("Payments")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("link", name="Payments")).to_be_visible()
    console.screenshot("projects")
    page.get_by_role("link", name="Payments").click()
    expect(page.get_by_role("heading", name="Payments", level=1)).to_be_visible()
    page.get_by_role("button", name="Activate Corporate root for Payments").click()
    cert_row = page.get_by_role("row").filter(has_text="Corporate root")
    expect(cert_row).to_contain_text("Active · project")
    console.screenshot("project")
    project_id = re.search(r"proj_\w+", page.url).group(0)
    status, listed = api(console.server, "GET", f"/organization/projects/{project_id}/certificates")
    assert status == 200 and [c["active"] for c in listed["data"] if c["id"] == cert_id] == [True]

    # Deleting an anchor in use is refused, with the way out next to the table.
    console.expected_statuses.add(409)
    page.get_by_role("link", name="Certificates").click()
    page.get_by_role("button", name="Delete Corporate root").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert")).to_contain_text("Deactivate it for the organization and for every project")

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Event type").select_option("certificates.activated")
    page.get_by_role("button", name="Apply filters").click()
    entry = page.get_by_role("row").filter(has_text="certificates.activated")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Payments")
    expect(entry).to_contain_text(cert_id)
    console.screenshot("audit-log")

    page.get_by_role("link", name="Admin keys").click()
    page.get_by_label("Key name").fill("deploy")
    page.get_by_role("button", name="Create key").click()
    value = page.get_by_label("New key “deploy”")
    expect(value).to_have_value(re.compile(r"^sk-admin-\w{48}$"))
    mine = page.get_by_role("row").filter(has_text="this session")
    expect(mine).to_have_count(1)
    expect(mine.get_by_role("cell").nth(3)).to_have_text(re.compile(r"\d{4}"))
    console.screenshot("admin-keys")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("localStorage.length") == 0
    assert console.context.cookies() == []
    assert "sk-admin" not in page.url


def test_a_dropped_file_the_api_refuses_shows_its_error_in_the_upload_form(console):
    console.expected_statuses.add(400)
    page = console.page
    console.open()
    console.sign_in()
    leaf = make_ca("Not a CA", ca=False)
    # Signing in renders the certificates screen asynchronously: drop once its zone is there.
    page.locator(".dropzone").wait_for()
    page.evaluate(
        """pem => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([pem], "leaf.pem", { type: "application/x-pem-file" }));
            document.querySelector(".dropzone").dispatchEvent(
                new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        leaf,
    )
    upload = page.get_by_role("form", name="Upload a certificate")
    expect(upload).to_contain_text("Selected: leaf.pem")
    upload.get_by_role("button", name="Upload certificate").click()
    status, body = api(console.server, "POST", "/organization/certificates", {"certificate": leaf})
    assert status == 400 and body["error"]["code"] == "mtls_certificate_invalid"
    expect(upload.get_by_role("alert")).to_have_text(body["error"]["message"])
    expect(page.get_by_text("No certificates yet. Upload")).to_be_visible()


def test_the_console_fits_a_360_pixel_screen(narrow_console, tmp_path):
    console = narrow_console
    page = console.page
    console.open()
    console.sign_in()
    pem = tmp_path / "edge.pem"
    pem.write_text(make_ca("Edge CA", days_valid=20))
    page.get_by_label("Drop a PEM file here").set_input_files(str(pem))
    page.get_by_label("Name (optional)").fill("Edge CA")
    page.get_by_role("button", name="Upload certificate").click()
    expect(page.get_by_role("row").filter(has_text="Edge CA")).to_contain_text("Expires soon")
    # Nothing but the table itself scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    console.screenshot("certificates-360px")
    # A reload keeps the session (the tab's sessionStorage); then, keyboard only, Tab from the
    # top of the page reaches the navigation and Enter follows it.
    page.reload()
    expect(page.get_by_role("heading", name="Certificates", level=1)).to_be_visible()
    page.keyboard.press("Tab")
    for _ in range(6):
        if page.evaluate("document.activeElement.textContent") == "Projects":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Projects", level=1)).to_be_visible()


def test_lists_load_one_page_at_a_time_with_the_apis_cursors(console):
    for i in range(23):
        status, _ = api(console.server, "POST", "/organization/projects", {"name": f"team-{i:02}"})
        assert status == 200
    lists = []
    console.page.on(
        "request",
        lambda r: "/v1/organization/projects?" in r.url and lists.append(r.url),
    )
    page = console.page
    console.open("/#/projects")
    console.sign_in()
    rows = page.locator("tbody tr")
    # Projects list oldest first, as the API does.
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("team-00")
    page.get_by_role("button", name="Next page").click()
    expect(rows).to_have_count(3)
    expect(rows.last).to_contain_text("team-22")
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.get_by_role("button", name="Previous page").click()
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("team-00")
    assert len(lists) == 3 and all("limit=20" in url for url in lists), lists
    assert "after=proj_" in lists[1] and "after=" not in lists[2], lists


def test_rename_archive_and_deleting_the_sessions_own_key(console):
    page = console.page
    status, cert = api(console.server, "POST", "/organization/certificates",
                       {"certificate": make_ca("Old name CA"), "name": "old name"})
    assert status == 200
    status, _ = api(console.server, "POST", "/organization/projects", {"name": "Sunset"})
    assert status == 200
    console.open()
    console.sign_in()
    page.get_by_role("button", name="Rename old name").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New name").fill("Issuing CA 2027")
    dialog.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("row").filter(has_text=cert["id"])).to_contain_text("Issuing CA 2027")
    assert api(console.server, "GET", f"/organization/certificates/{cert['id']}")[1]["name"] == "Issuing CA 2027"

    page.get_by_role("link", name="Projects").click()
    page.get_by_role("button", name="Archive Sunset").click()
    page.get_by_role("dialog").get_by_role("button", name="Archive").click()
    expect(page.get_by_role("row").filter(has_text="Sunset")).to_have_count(0)
    page.get_by_label("Show archived projects").check()
    expect(page.get_by_role("row").filter(has_text="Sunset")).to_contain_text("archived")

    page.get_by_role("link", name="Admin keys").click()
    page.get_by_role("button", name="Delete Initial admin key").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("will be signed out")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


FILTER = 'subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))'


def stored_filter(server, cert_id):
    """The certificate's filter as the API shows it with `include[]=attribute_filter`."""
    status, cert = api(server, "GET", f"/organization/certificates/{cert_id}?include[]=attribute_filter")
    assert status == 200
    return cert["attribute_filter"]


def test_an_attribute_filter_is_set_refused_and_cleared_in_its_dialog(console):
    console.expected_statuses.add(400)
    page = console.page
    status, cert = api(console.server, "POST", "/organization/certificates",
                       {"certificate": make_ca("Partner Root CA"), "name": "Partner root"})
    assert status == 200
    reads = []
    page.on("request", lambda r: f"/v1/organization/certificates/{cert['id']}" in r.url
            and r.method == "GET" and reads.append(r.url))
    console.open()
    console.sign_in()
    expect(page.get_by_role("row").filter(has_text="Partner root")).to_be_visible()
    # The list does not carry the filter, and no request per row fetches it.
    assert reads == []

    page.get_by_role("button", name="Attribute filter of Partner root").click()
    dialog = page.get_by_role("dialog", name="Attribute filter of Partner root")
    expect(dialog).to_contain_text("No filter is set")
    assert len(reads) == 1 and "attribute_filter" in reads[0], reads
    expect(dialog.get_by_role("button", name="Clear filter")).to_have_count(0)
    text = dialog.get_by_label("Filter (CEL expression)")
    expect(text).to_have_value("")
    assert "monospace" in text.evaluate("el => getComputedStyle(el).fontFamily")
    text.fill(FILTER)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("Saved the attribute filter of Partner root.")
    assert stored_filter(console.server, cert["id"]) == FILTER

    # Reopened, it shows the saved filter; a filter the API refuses shows the API's message,
    # the dialog stays open with the text as typed, and nothing changes.
    page.get_by_role("button", name="Attribute filter of Partner root").click()
    expect(dialog).to_contain_text("A filter is set")
    expect(text).to_have_value(FILTER)
    console.screenshot("attribute-filter")
    wrong = 'subject.common_name == "a" && subject.nickname == "b"'
    status, refused = api(console.server, "POST", f"/organization/certificates/{cert['id']}",
                          {"attribute_filter": wrong})
    assert status == 400 and refused["error"]["code"] == "mtls_cel_policy_invalid"
    assert "(line 1, column " in refused["error"]["message"]
    text.fill(wrong)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text(refused["error"]["message"])
    expect(text).to_have_value(wrong)
    expect(text).to_have_attribute("aria-invalid", "true")
    # The caret is put where the message says the error is.
    column = int(re.search(r"column (\d+)\)", refused["error"]["message"]).group(1))
    assert text.evaluate("el => el.selectionStart") == column - 1
    console.screenshot("attribute-filter-refused")
    assert stored_filter(console.server, cert["id"]) == FILTER
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert stored_filter(console.server, cert["id"]) == FILTER

    page.get_by_role("button", name="Attribute filter of Partner root").click()
    expect(text).to_have_value(FILTER)
    dialog.get_by_role("button", name="Clear filter").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("Cleared the attribute filter of Partner root.")
    assert stored_filter(console.server, cert["id"]) is None
    page.get_by_role("button", name="Attribute filter of Partner root").click()
    expect(text).to_have_value("")
    expect(dialog.get_by_role("button", name="Clear filter")).to_have_count(0)


def test_an_upload_may_carry_an_attribute_filter(console, tmp_path):
    console.expected_statuses.add(400)
    page = console.page
    console.open()
    console.sign_in()
    upload = page.get_by_role("form", name="Upload a certificate")
    pem = tmp_path / "edge.pem"
    pem.write_text(make_ca("Edge Root CA"))
    upload.get_by_label("Drop a PEM file here").set_input_files(str(pem))
    upload.get_by_label("Name (optional)").fill("Edge root")
    upload.get_by_text("Attribute filter (optional)").click()
    text = upload.get_by_label("Filter (CEL expression)")
    # A filter that does not compile refuses the upload: the API's message, no certificate.
    text.fill("subject.common_name ==")
    upload.get_by_role("button", name="Upload certificate").click()
    expect(upload.get_by_role("alert")).to_contain_text("(line 1, column ")
    expect(page.get_by_text("No certificates yet. Upload")).to_be_visible()
    assert api(console.server, "GET", "/organization/certificates")[1]["data"] == []
    text.fill(FILTER)
    upload.get_by_role("button", name="Upload certificate").click()
    expect(page.get_by_role("status")).to_contain_text("Uploaded Edge root")
    listed = api(console.server, "GET", "/organization/certificates")[1]["data"]
    assert len(listed) == 1 and stored_filter(console.server, listed[0]["id"]) == FILTER
    # The form is empty again, its filter folded away.
    expect(text).to_be_hidden()
    expect(text).to_have_value("")
