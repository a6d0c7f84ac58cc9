// The certificates screen: the organization's trust anchors, their expiry, upload, rename,
// attribute filter, delete, and activation at organization level (project level is on each
// project's screen).

import { call, page } from "./api.js";
import { h, errorArea, field, notify, confirmDialog, busy, table } from "./dom.js";
import * as fmt from "./format.js";
import { editFilter } from "./filter.js";
import { pager } from "./pager.js";
import { timeline } from "./timeline.js";
import { uploadForm } from "./upload.js";

const PAGE_SIZE = 20;
// The timeline reads one page of the API's largest size: every anchor of an organization
// within the default limit of 50 certificates.
const TIMELINE_SIZE = 100;

/** The cells every certificate table shows: name, id, validity and days left. */
export function certificateCells(cert) {
  const { valid_at: validAt, expires_at: expiresAt } = cert.certificate_details;
  const days = fmt.daysLeft(expiresAt);
  const level = fmt.expiryLevel(days);
  return {
    name: h("span", { class: cert.name ? "" : "muted" }, cert.name ?? "(unnamed)"),
    id: h("code", { class: "id" }, cert.id),
    validFrom: h("time", { datetime: fmt.isoDate(validAt) }, fmt.date(validAt)),
    expires: h("time", { datetime: fmt.isoDate(expiresAt) }, fmt.date(expiresAt)),
    days: h("span", { class: ["days", level], title: fmt.LEVEL_LABEL[level] },
      h("span", { class: "dot", "aria-hidden": "true" }), fmt.daysText(days),
      level === "ok" ? null : h("span", { class: "visually-hidden" }, ` (${fmt.LEVEL_LABEL[level]})`)),
  };
}

export function scopeBadge(active, scope) {
  return h("span", { class: ["badge", active ? "on" : "off"] }, active ? `Active · ${scope}` : "Inactive");
}

async function rename(cert, refresh, errors) {
  const name = field("New name", { type: "text", value: cert.name ?? "", maxlength: 256 });
  if (!(await confirmDialog(`Rename ${cert.name ?? cert.id}`, name.row, "Rename"))) return;
  try {
    await call("POST", `/organization/certificates/${cert.id}`, { body: { name: name.input.value } });
    notify(`Renamed to “${name.input.value}”.`);
    refresh();
  } catch (error) {
    errors.show(error);
  }
}

async function remove(cert, refresh, errors) {
  const body = h("p", {}, "Delete ", h("strong", {}, cert.name ?? cert.id),
    "? Clients whose certificates chain to it will no longer be trusted once it is gone. ",
    "A certificate that is active for the organization or for any project cannot be deleted.");
  if (!(await confirmDialog("Delete certificate", body, "Delete", { danger: true }))) return;
  try {
    await call("DELETE", `/organization/certificates/${cert.id}`);
    notify(`Deleted ${cert.name ?? cert.id}.`);
    refresh();
  } catch (error) {
    if (error.code === "certificate_in_use") {
      error.message = `${error.message} Deactivate it for the organization and for every project `
        + "that uses it (on the Projects screen), then delete it.";
    }
    errors.show(error);
  }
}

/** Activates or deactivates certificates for the organization or one project. */
export async function toggle(cert, activate, projectId) {
  const scope = projectId ? `/organization/projects/${projectId}/certificates` : "/organization/certificates";
  await call("POST", `${scope}/${activate ? "activate" : "deactivate"}`, { body: { certificate_ids: [cert.id] } });
  notify(`${activate ? "Activated" : "Deactivated"} ${cert.name ?? cert.id} for ${projectId ? "the project" : "the organization"}.`);
}

export function certificatesScreen(main) {
  const errors = errorArea();
  const chart = h("section", { class: "card", "aria-labelledby": "timeline-title" },
    h("h2", { id: "timeline-title" }, "Expiry in the next 12 months"), h("p", { class: "muted" }, "Loading…"));
  let list = null;
  // After a rename or delete: the page on screen and the timeline, which shows names too.
  const refresh = () => {
    list.refresh();
    loadTimeline();
  };

  async function loadTimeline() {
    try {
      const all = await page("/organization/certificates", { limit: TIMELINE_SIZE });
      const width = chart.clientWidth - 2 * parseFloat(getComputedStyle(chart).paddingLeft);
      chart.replaceChildren(chart.firstChild, timeline(all.data, all.has_more, width));
    } catch (error) {
      chart.replaceChildren(chart.firstChild, h("p", { class: "error", role: "alert" }, error.message));
    }
  }

  function render(result) {
    const rows = result.data.map((cert) => {
      const cells = certificateCells(cert);
      const actions = h("div", { class: "row-actions" },
        h("button", { type: "button", class: "secondary", "aria-label": `${cert.active ? "Deactivate" : "Activate"} ${cert.name ?? cert.id} for the organization`,
          onclick: (event) => busy(event.currentTarget, errors, async () => {
            await toggle(cert, !cert.active);
            list.refresh();
          }) }, cert.active ? "Deactivate" : "Activate"),
        h("button", { type: "button", class: "secondary", "aria-label": `Rename ${cert.name ?? cert.id}`,
          onclick: () => rename(cert, refresh, errors) }, "Rename"),
        h("button", { type: "button", class: "secondary", "aria-label": `Attribute filter of ${cert.name ?? cert.id}`,
          onclick: (event) => editFilter(event.currentTarget, cert, errors) }, "Filter"),
        h("button", { type: "button", class: "danger-link", "aria-label": `Delete ${cert.name ?? cert.id}`,
          onclick: () => remove(cert, refresh, errors) }, "Delete"));
      return [cells.name, cells.id, scopeBadge(cert.active, "organization"), cells.validFrom, cells.expires, cells.days, actions];
    });
    return table("Certificates of the organization",
      ["Name", "ID", "Scope", "Valid from", "Expires", "Days left", "Actions"], rows,
      "No certificates yet. Upload a CA certificate in PEM format to get started.");
  }

  list = pager("Certificates", (after) => page("/organization/certificates", { limit: PAGE_SIZE, after }), render);
  const upload = uploadForm(() => {
    list.reload();
    loadTimeline();
  });
  main.append(
    h("div", { class: "heading" }, h("h1", {}, "Certificates"),
      h("p", { class: "muted" }, "CA certificates that client certificates must chain to. Project-level activation is on each project's page.")),
    upload,
    chart,
    h("section", { class: "card", "aria-labelledby": "list-title" },
      h("h2", { id: "list-title" }, "All certificates"), errors.el, list.el));
  list.reload();
  loadTimeline();
}
