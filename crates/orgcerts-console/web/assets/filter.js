// A certificate's attribute filter: a CEL expression over the client certificate, read with
// `include[]=attribute_filter` and set or cleared with a modify. Lists do not carry the filter,
// so it is loaded when its dialog opens, one request for the certificate the user chose.

import { call } from "./api.js";
import { h, errorArea, field, notify, busy } from "./dom.js";

export const FILTER_EXAMPLE =
  'subject_alt_names.exists(san, san.type == DNS && san.value.endsWith(".example.com"))';
export const FILTER_HINT = "A CEL expression over the client certificate (subject.common_name, "
  + "subject.organization, … and subject_alt_names with type, value and oid); a client "
  + "certificate is accepted only when it is true. At most 4,096 bytes.";

/** The textarea of a filter: monospace, no spelling or autocorrection. */
export function filterField(label, value = "") {
  const filter = field(label, {
    tag: "textarea", class: "code", rows: 5, spellcheck: "false", autocomplete: "off",
    autocapitalize: "off", placeholder: FILTER_EXAMPLE,
  }, FILTER_HINT);
  filter.input.value = value;
  return filter;
}

/** Puts the caret where the API's message (`… (line L, column C).`) says the error is. */
function pointAt(textarea, message) {
  const where = /\(line (\d+), column (\d+)\)/.exec(message ?? "");
  if (!where) return;
  const lines = textarea.value.split("\n");
  const line = Number(where[1]);
  if (line < 1 || line > lines.length) return;
  // Columns count characters (code points); the textarea counts UTF-16 units.
  const before = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
  const column = Array.from(lines[line - 1]).slice(0, Number(where[2]) - 1).join("").length;
  textarea.focus();
  textarea.setSelectionRange(before + column, before + column);
}

/**
 * The filter dialog of `cert`: the filter as saved, Save (sets it; an empty text clears it),
 * Clear (when one is set) and Cancel. A refusal of the API shows inside the dialog, which stays
 * open with the text as typed. `errors` shows a failure to load the filter.
 */
export async function editFilter(button, cert, errors) {
  const label = cert.name ?? cert.id;
  const loaded = await busy(button, errors, () => call("GET", `/organization/certificates/${cert.id}`,
    { query: { include: ["attribute_filter"] } }));
  if (!loaded) return;
  const saved = loaded.attribute_filter ?? null;
  const dialogErrors = errorArea();
  const filter = filterField("Filter (CEL expression)", saved ?? "");
  dialogErrors.el.id = `${filter.input.id}-error`;
  filter.input.setAttribute("aria-errormessage", dialogErrors.el.id);
  const titleId = `${filter.input.id}-title`;
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const clear = saved === null ? null
    : h("button", { type: "button", class: "danger-link first", onclick: () => send(null) }, "Clear filter");
  const form = h("form", {},
    h("p", { class: "muted" }, saved === null ? "No filter is set: every client certificate that chains to "
      + "this certificate is accepted." : "A filter is set: only client certificates for which it is true "
      + "are accepted."),
    filter.row, dialogErrors.el,
    h("div", { class: "actions" },
      clear,
      h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel"),
      save));
  const dialog = h("dialog", { class: "wide", "aria-labelledby": titleId },
    h("h2", { id: titleId }, `Attribute filter of ${label}`), form);

  async function send(text) {
    const button = text === null ? clear : save;
    dialogErrors.clear();
    filter.input.removeAttribute("aria-invalid");
    button.disabled = true;
    try {
      await call("POST", `/organization/certificates/${cert.id}`, { body: { attribute_filter: text } });
    } catch (error) {
      dialogErrors.show(error);
      if (error.param === "attribute_filter") {
        filter.input.setAttribute("aria-invalid", "true");
        pointAt(filter.input, error.message);
      }
      return;
    } finally {
      button.disabled = false;
    }
    dialog.close();
    notify(text ? `Saved the attribute filter of ${label}.` : `Cleared the attribute filter of ${label}.`);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    // Saved as typed, without trimming; only an empty text means "no filter".
    const text = filter.input.value === "" ? null : filter.input.value;
    if (text === null && saved === null) dialog.close();
    else send(text);
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    button.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  filter.input.focus();
}
