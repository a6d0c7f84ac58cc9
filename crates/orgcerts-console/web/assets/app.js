// The console's shell: sign-in, navigation between screens (hash routes), sign-out.

import { call, forget, remember, storedKey } from "./api.js";
import { h, errorArea, field, replace, busy } from "./dom.js";
import { certificatesScreen } from "./certificates.js";
import { projectsScreen, projectScreen } from "./projects.js";
import { keysScreen } from "./keys.js";
import { auditScreen } from "./audit.js";

const root = document.getElementById("app");

const SCREENS = [
  { hash: "#/certificates", label: "Certificates" },
  { hash: "#/projects", label: "Projects" },
  { hash: "#/admin-keys", label: "Admin keys" },
  { hash: "#/audit-log", label: "Audit log" },
];

function signInScreen() {
  const errors = errorArea();
  const key = field("Admin API key", {
    type: "password", name: "admin-key", autocomplete: "off", required: true, spellcheck: "false",
    placeholder: "sk-admin-…",
  }, "Kept in this browser tab only, and forgotten when you sign out or close the tab.");
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "orgcerts console"),
    h("p", { class: "lede" }, "Manage the mutual TLS certificates of your organization."),
    key.row, errors.el, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = key.input.value.trim();
    busy(submit, errors, async () => {
      // Any authenticated call checks the key; the API's own message shows when it is refused.
      await call("GET", "/organization/certificates", { query: { limit: 1 }, key: value });
      remember(value);
      if (!location.hash || location.hash === "#/") history.replaceState(null, "", "#/certificates");
      render();
    });
  });
  replace(root, h("main", { id: "main", class: "signin-page" }, form));
  key.input.focus();
}

function signOut() {
  forget();
  history.replaceState(null, "", location.pathname);
  render();
}

function shell(current) {
  const nav = h("nav", { class: "nav", "aria-label": "Screens" },
    h("ul", {}, SCREENS.map((screen) => h("li", {},
      h("a", { href: screen.hash, "aria-current": current === screen.hash ? "page" : null }, screen.label)))));
  const header = h("header", { class: "top" },
    h("a", { class: "brand", href: "#/certificates" }, h("img", { src: document.querySelector("link[rel=icon]").href, alt: "", width: 24, height: 24 }), "orgcerts"),
    nav,
    h("button", { type: "button", class: "secondary signout", onclick: signOut }, "Sign out"));
  const main = h("main", { id: "main", tabindex: -1 });
  const notice = h("p", { id: "notice", class: "notice", role: "status", hidden: true });
  replace(root, header, notice, main);
  return main;
}

function render() {
  if (!storedKey()) {
    signInScreen();
    return;
  }
  const hash = location.hash || "#/certificates";
  const project = hash.match(/^#\/projects\/(proj_[A-Za-z0-9]+)$/);
  const screen = project ? "#/projects" : SCREENS.find((s) => s.hash === hash)?.hash || "#/certificates";
  const main = shell(screen);
  if (project) projectScreen(main, project[1]);
  else if (screen === "#/projects") projectsScreen(main);
  else if (screen === "#/admin-keys") keysScreen(main);
  else if (screen === "#/audit-log") auditScreen(main);
  else certificatesScreen(main);
  document.title = `${SCREENS.find((s) => s.hash === screen).label} · orgcerts console`;
}

// A file dropped outside the upload zone must not replace the console with the file.
for (const type of ["dragover", "drop"]) {
  window.addEventListener(type, (event) => event.preventDefault());
}

window.addEventListener("hashchange", () => {
  render();
  document.getElementById("main")?.focus({ preventScroll: true });
});
render();
