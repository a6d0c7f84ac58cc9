// The audit log with the API's filters: event type, project, actor, resource and time range.

import { page } from "./api.js";
import { h, field, table } from "./dom.js";
import * as fmt from "./format.js";
import { pager } from "./pager.js";

const PAGE_SIZE = 20;

// The event types orgcerts records (the spec lists more, which never occur here).
const EVENT_TYPES = [
  "certificate.created", "certificate.updated", "certificate.deleted",
  "certificates.activated", "certificates.deactivated",
  "project.created", "project.updated", "project.archived",
  "api_key.created", "api_key.deleted",
];

function seconds(dateValue, endOfDay) {
  if (!dateValue) return undefined;
  const t = Date.parse(`${dateValue}T00:00:00Z`) / 1000;
  return endOfDay ? t + 86400 : t;
}

/** What an entry's payload is about, in a few words. */
function summary(entry) {
  const details = entry[entry.type];
  if (!details || typeof details !== "object") return "";
  const parts = [];
  if (details.id) parts.push(details.name ? `${details.name} (${details.id})` : details.id);
  if (Array.isArray(details.certificates)) {
    parts.push(details.certificates.map((c) => c.name ? `${c.name} (${c.id})` : c.id).join(", "));
  }
  const changes = details.changes_requested || details.data;
  if (changes && typeof changes === "object") {
    for (const [key, value] of Object.entries(changes)) {
      if (typeof value !== "object") parts.push(`${key}: ${value}`);
    }
  }
  return parts.join(" · ");
}

function actor(entry) {
  const key = entry.actor && entry.actor.api_key;
  return key ? h("code", { class: "id" }, key.id) : h("span", { class: "muted" }, "—");
}

export function auditScreen(main) {
  const type = field("Event type", { tag: "select" });
  type.input.append(h("option", { value: "" }, "All events"), ...EVENT_TYPES.map((t) => h("option", { value: t }, t)));
  const project = field("Project ID", { type: "text", placeholder: "proj_…", spellcheck: "false" });
  const actorId = field("Actor ID", { type: "text", placeholder: "key_…", spellcheck: "false" });
  const resource = field("Resource ID", { type: "text", placeholder: "cert_…", spellcheck: "false" });
  const from = field("From (UTC)", { type: "date" });
  const to = field("To (UTC, inclusive)", { type: "date" });
  const apply = h("button", { type: "submit", class: "primary" }, "Apply filters");
  const reset = h("button", { type: "reset", class: "secondary" }, "Clear");
  const filters = h("form", { class: "card filters", "aria-labelledby": "filters-title" },
    h("h2", { id: "filters-title" }, "Filters"),
    h("div", { class: "filter-grid" }, type.row, project.row, actorId.row, resource.row, from.row, to.row),
    h("div", { class: "actions" }, reset, apply));

  const render = (result) => table("Audit log entries",
    ["Time", "Event", "Actor", "Project", "Details"],
    result.data.map((entry) => [
      h("time", { datetime: new Date(entry.effective_at * 1000).toISOString() }, fmt.dateTime(entry.effective_at)),
      h("span", { class: "event" }, entry.type),
      actor(entry),
      entry.project ? h("span", {}, entry.project.name ?? entry.project.id) : h("span", { class: "muted" }, "—"),
      h("span", { class: "details" }, summary(entry)),
    ]),
    "No entries match.");
  const list = pager("Audit log", (after) => page("/organization/audit_logs", {
    limit: PAGE_SIZE,
    after,
    event_types: type.input.value ? [type.input.value] : undefined,
    project_ids: project.input.value.trim() ? [project.input.value.trim()] : undefined,
    actor_ids: actorId.input.value.trim() ? [actorId.input.value.trim()] : undefined,
    resource_ids: resource.input.value.trim() ? [resource.input.value.trim()] : undefined,
    "effective_at[gte]": seconds(from.input.value, false),
    "effective_at[lt]": seconds(to.input.value, true),
  }), render);
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    list.reload();
  });
  filters.addEventListener("reset", () => setTimeout(() => list.reload(), 0));
  main.append(
    h("div", { class: "heading" }, h("h1", {}, "Audit log"),
      h("p", { class: "muted" }, "Every change made through the API, newest first.")),
    filters,
    h("section", { class: "card", "aria-labelledby": "entries-title" },
      h("h2", { id: "entries-title" }, "Entries"), list.el));
  list.reload();
}
