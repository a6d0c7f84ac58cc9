// Upload of a CA certificate: a PEM file chosen with the file picker or dropped on the zone.
// An attribute filter may go with it, behind a disclosure. The API's refusal (invalid PEM, not a
// CA, expired, duplicate, limit, a filter that does not compile) shows inside the form.

import { call } from "./api.js";
import { h, errorArea, field, notify, busy, uid } from "./dom.js";
import { filterField } from "./filter.js";

// The contract's limit on the `certificate` field; larger files are refused before sending.
const MAX_PEM_BYTES = 16384;

export function uploadForm(uploaded) {
  const errors = errorArea();
  const inputId = uid("pem");
  const file = h("input", { type: "file", id: inputId, class: "file-input", accept: ".pem,.crt,.cer,application/x-pem-file" });
  const chosen = h("span", { class: "chosen" }, "No file chosen");
  const zone = h("label", { for: inputId, class: "dropzone" },
    h("span", { class: "drop-title" }, "Drop a PEM file here, or ", h("span", { class: "link" }, "choose a file")),
    h("span", { class: "muted" }, "A CA certificate (BEGIN CERTIFICATE), at most 16 KiB, no private key."),
    chosen);
  const name = field("Name (optional)", { type: "text", maxlength: 256, placeholder: "e.g. Corporate root CA" });
  const filter = filterField("Filter (CEL expression)");
  const more = h("details", { class: "more" }, h("summary", {}, "Attribute filter (optional)"), filter.row);
  const submit = h("button", { type: "submit", class: "primary", disabled: true }, "Upload certificate");
  let pem = null;

  async function take(selected) {
    errors.clear();
    pem = null;
    submit.disabled = true;
    if (!selected) {
      chosen.textContent = "No file chosen";
      return;
    }
    chosen.textContent = `Selected: ${selected.name}`;
    if (selected.size > MAX_PEM_BYTES) {
      errors.show(`${selected.name} is ${selected.size} bytes; a certificate file may be at most ${MAX_PEM_BYTES} bytes.`);
      return;
    }
    pem = await selected.text();
    submit.disabled = false;
  }

  file.addEventListener("change", () => take(file.files[0]));
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    take(event.dataTransfer.files[0]);
  });

  const form = h("form", { class: "card upload", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "Upload a certificate"),
    file, zone, more, h("div", { class: "upload-row" }, name.row, submit), errors.el);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, errors, async () => {
      const body = { certificate: pem };
      if (name.input.value.trim()) body.name = name.input.value.trim();
      // Sent as typed: the API saves a filter without trimming it.
      if (filter.input.value !== "") body.attribute_filter = filter.input.value;
      const cert = await call("POST", "/organization/certificates", { body });
      notify(`Uploaded ${cert.name ?? cert.id}.`);
      form.reset();
      more.open = false;
      await take(null);
      uploaded(cert);
    }).then(() => {
      submit.disabled = pem === null;
    });
  });
  return form;
}
