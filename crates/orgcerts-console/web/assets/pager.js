// Cursor paging over any list of the API: one page in memory at a time. "Next" follows the
// page's last_id with `after`; "Previous" goes back to the cursor the previous page started from.

import { h, replace } from "./dom.js";

/**
 * `load(after)` fetches one page; `render(page)` returns its content. Returns `{el, reload}`.
 */
export function pager(label, load, render) {
  const content = h("div", { class: "page" });
  const status = h("span", { class: "page-status", "aria-live": "polite" });
  const prev = h("button", { type: "button", class: "secondary", disabled: true }, "Previous page");
  const next = h("button", { type: "button", class: "secondary", disabled: true }, "Next page");
  const nav = h("nav", { class: "pager", "aria-label": `${label} pages` }, prev, status, next);
  const el = h("div", {}, content, nav);
  // The cursors the pages seen so far started from: null for the first.
  let cursors = [null];
  let index = 0;

  async function show(wanted) {
    prev.disabled = true;
    next.disabled = true;
    content.setAttribute("aria-busy", "true");
    try {
      const current = await load(cursors[wanted]);
      index = wanted;
      cursors = cursors.slice(0, index + 1);
      replace(content, render(current));
      status.textContent = `Page ${index + 1}`;
      prev.disabled = index === 0;
      next.disabled = !current.has_more;
      if (current.has_more) cursors.push(current.last_id);
      nav.hidden = index === 0 && !current.has_more;
    } catch (error) {
      replace(content, h("p", { class: "error", role: "alert" }, error.message));
      // The pages around the one that failed stay reachable.
      prev.disabled = index === 0;
      next.disabled = cursors.length <= index + 1;
    } finally {
      content.removeAttribute("aria-busy");
    }
  }

  prev.addEventListener("click", () => show(Math.max(0, index - 1)));
  next.addEventListener("click", () => show(index + 1));

  return {
    el,
    /** Loads the first page again. */
    reload: () => {
      cursors = [null];
      return show(0);
    },
    /** Loads the page on screen again (after a change to one of its items). */
    refresh: () => show(index),
  };
}
