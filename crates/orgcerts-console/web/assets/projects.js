// Projects: the list (create, rename, archive) and one project's screen, where certificates are
// activated and deactivated for that project.

import { call, page } from "./api.js";
import { h, errorArea, field, notify, confirmDialog, busy, table } from "./dom.js";
import * as fmt from "./format.js";
import { pager } from "./pager.js";
import { certificateCells, scopeBadge, toggle } from "./certificates.js";

const PAGE_SIZE = 20;

async function rename(project, errors, done) {
  const name = field("New name", { type: "text", value: project.name ?? "", required: true });
  if (!(await confirmDialog(`Rename ${project.name ?? project.id}`, name.row, "Rename"))) return;
  try {
    await call("POST", `/organization/projects/${project.id}`, { body: { name: name.input.value } });
    notify(`Renamed to “${name.input.value}”.`);
    done();
  } catch (error) {
    errors.show(error);
  }
}

async function archive(project, errors, done) {
  const body = h("p", {}, "Archive ", h("strong", {}, project.name ?? project.id),
    "? An archived project cannot be reopened, and certificates can no longer be activated for it.");
  if (!(await confirmDialog("Archive project", body, "Archive", { danger: true }))) return;
  try {
    await call("POST", `/organization/projects/${project.id}/archive`);
    notify(`Archived ${project.name ?? project.id}.`);
    done();
  } catch (error) {
    errors.show(error);
  }
}

function createForm(created) {
  const errors = errorArea();
  const name = field("Project name", { type: "text", required: true, maxlength: 256 });
  const submit = h("button", { type: "submit", class: "primary" }, "Create project");
  const form = h("form", { class: "card", "aria-labelledby": "create-project" },
    h("h2", { id: "create-project" }, "Create a project"),
    h("div", { class: "upload-row" }, name.row, submit), errors.el);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, errors, async () => {
      const project = await call("POST", "/organization/projects", { body: { name: name.input.value } });
      notify(`Created ${project.name}.`);
      form.reset();
      created();
    });
  });
  return form;
}

export function projectsScreen(main) {
  const errors = errorArea();
  const archived = h("input", { type: "checkbox", id: "include-archived" });
  let list = null;
  const render = (result) => table("Projects",
    ["Name", "ID", "Status", "Created", "Actions"],
    result.data.map((project) => [
      h("a", { href: `#/projects/${project.id}` }, project.name ?? project.id),
      h("code", { class: "id" }, project.id),
      h("span", { class: ["badge", project.status === "archived" ? "off" : "on"] }, project.status ?? "active"),
      fmt.date(project.created_at),
      project.status === "archived" ? h("span", { class: "muted" }, `Archived ${fmt.date(project.archived_at)}`)
        : h("div", { class: "row-actions" },
          h("button", { type: "button", class: "secondary", "aria-label": `Rename ${project.name}`,
            onclick: () => rename(project, errors, () => list.refresh()) }, "Rename"),
          h("button", { type: "button", class: "danger-link", "aria-label": `Archive ${project.name}`,
            onclick: () => archive(project, errors, () => list.refresh()) }, "Archive")),
    ]),
    "No projects yet.");
  list = pager("Projects", (after) => page("/organization/projects",
    { limit: PAGE_SIZE, after, include_archived: archived.checked ? "true" : undefined }), render);
  archived.addEventListener("change", () => list.reload());
  main.append(
    h("div", { class: "heading" }, h("h1", {}, "Projects"),
      h("p", { class: "muted" }, "Open a project to activate certificates for it alone.")),
    createForm(() => list.reload()),
    h("section", { class: "card", "aria-labelledby": "projects-title" },
      h("div", { class: "card-head" }, h("h2", { id: "projects-title" }, "All projects"),
        h("div", { class: "check" }, archived, h("label", { for: "include-archived" }, "Show archived projects"))),
      errors.el, list.el));
  list.reload();
}

export async function projectScreen(main, projectId) {
  const errors = errorArea();
  const heading = h("h1", {}, projectId);
  const meta = h("p", { class: "muted" });
  main.append(h("p", {}, h("a", { href: "#/projects" }, "← All projects")),
    h("div", { class: "heading" }, heading, meta));
  let project;
  try {
    project = await call("GET", `/organization/projects/${projectId}`);
  } catch (error) {
    main.append(h("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  heading.textContent = project.name ?? project.id;
  meta.textContent = `${project.id} · ${project.status ?? "active"} · created ${fmt.date(project.created_at)}`;
  let list = null;
  const render = (result) => table(`Certificates for ${project.name}`,
    ["Name", "ID", "Scope", "Expires", "Days left", "Actions"],
    result.data.map((cert) => {
      const cells = certificateCells(cert);
      const label = `${cert.active ? "Deactivate" : "Activate"} ${cert.name ?? cert.id} for ${project.name}`;
      return [cells.name, cells.id, scopeBadge(cert.active, "project"), cells.expires, cells.days,
        h("button", { type: "button", class: cert.active ? "secondary" : "primary", "aria-label": label,
          onclick: (event) => busy(event.currentTarget, errors, async () => {
            await toggle(cert, !cert.active, project.id);
            list.refresh();
          }) }, cert.active ? "Deactivate" : "Activate")];
    }),
    "The organization has no certificates yet.");
  list = pager("Project certificates", (after) =>
    page(`/organization/projects/${project.id}/certificates`, { limit: PAGE_SIZE, after }), render);
  main.append(h("section", { class: "card", "aria-labelledby": "project-certs" },
    h("h2", { id: "project-certs" }, "Certificates"),
    h("p", { class: "muted" }, "Activation here applies to this project only; certificates active for the whole organization are marked on the Certificates screen."),
    errors.el, list.el));
  list.reload();
}
