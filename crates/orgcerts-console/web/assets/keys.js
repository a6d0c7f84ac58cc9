// Admin API keys: list, create (the value is shown once), delete.

import { call, forget, page, storedKey } from "./api.js";
import { h, errorArea, field, notify, confirmDialog, busy, table } from "./dom.js";
import * as fmt from "./format.js";
import { pager } from "./pager.js";

const PAGE_SIZE = 20;

function createForm(created) {
  const errors = errorArea();
  const name = field("Key name", { type: "text", required: true, maxlength: 256 });
  const submit = h("button", { type: "submit", class: "primary" }, "Create key");
  const reveal = h("div", { class: "reveal", hidden: true });
  const form = h("form", { class: "card", "aria-labelledby": "create-key" },
    h("h2", { id: "create-key" }, "Create an admin key"),
    h("div", { class: "upload-row" }, name.row, submit), errors.el, reveal);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, errors, async () => {
      const made = await call("POST", "/organization/admin_api_keys", { body: { name: name.input.value } });
      const valueId = "new-key-value";
      const value = h("input", { type: "text", id: valueId, readonly: true, value: made.value, class: "secret" });
      const copy = h("button", { type: "button", class: "secondary", onclick: async () => {
        value.select();
        try {
          await navigator.clipboard.writeText(made.value);
          notify("Copied to the clipboard.");
        } catch {
          notify("Select the key and copy it.");
        }
      } }, "Copy");
      reveal.replaceChildren(
        h("p", { role: "alert" }, h("strong", {}, "Copy this key now. "), "It is shown only once and cannot be retrieved later."),
        h("label", { for: valueId }, `New key “${made.name ?? made.id}”`),
        h("div", { class: "upload-row" }, value, copy,
          h("button", { type: "button", class: "secondary", onclick: () => { reveal.hidden = true; reveal.replaceChildren(); } }, "Done")));
      reveal.hidden = false;
      value.focus();
      value.select();
      form.reset();
      created();
    });
  });
  return form;
}

export function keysScreen(main) {
  const errors = errorArea();
  let list = null;
  const mine = storedKey() ?? "";
  const render = (result) => table("Admin API keys",
    ["Name", "ID", "Key", "Created", "Last used", "Actions"],
    result.data.map((key) => {
      // The key in use by this console: its redacted value's visible ends match the stored key.
      const [head, tail] = key.redacted_value.split(/\*+/);
      const current = tail !== undefined && mine.startsWith(head) && mine.endsWith(tail);
      return [
        h("span", {}, key.name ?? "(unnamed)", current ? h("span", { class: "badge on" }, "this session") : null),
        h("code", { class: "id" }, key.id),
        h("code", {}, key.redacted_value),
        fmt.date(key.created_at),
        key.last_used_at ? fmt.dateTime(key.last_used_at) : h("span", { class: "muted" }, "never"),
        h("button", { type: "button", class: "danger-link", "aria-label": `Delete ${key.name ?? key.id}`,
          onclick: async () => {
            const body = h("p", {}, "Delete ", h("strong", {}, key.name ?? key.id),
              "? Anything using it stops working at once.",
              current ? " This console is signed in with it and will be signed out." : "");
            if (!(await confirmDialog("Delete admin key", body, "Delete", { danger: true }))) return;
            try {
              await call("DELETE", `/organization/admin_api_keys/${key.id}`);
              if (current) {
                // The key is gone: so is this session.
                forget();
                location.replace("/");
                return;
              }
              notify(`Deleted ${key.name ?? key.id}.`);
              list.refresh();
            } catch (error) {
              errors.show(error);
            }
          } }, "Delete"),
      ];
    }),
    "No admin keys.");
  list = pager("Admin keys", (after) => page("/organization/admin_api_keys", { limit: PAGE_SIZE, after }), render);
  main.append(
    h("div", { class: "heading" }, h("h1", {}, "Admin keys"),
      h("p", { class: "muted" }, "Keys with full access to the organization's administration API.")),
    createForm(() => list.reload()),
    h("section", { class: "card", "aria-labelledby": "keys-title" },
      h("h2", { id: "keys-title" }, "All admin keys"), errors.el, list.el));
  list.reload();
}
