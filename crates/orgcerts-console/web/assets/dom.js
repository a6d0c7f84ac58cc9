// A small DOM builder: elements are made with createElement and textContent, never from HTML
// strings, so that no value from the API can become markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** `h("button", {class: "primary", onclick}, "Save")`. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled input: returns `{row, input}`. */
export function field(label, attrs = {}, hint) {
  const id = uid("f");
  const hintId = hint ? `${id}-hint` : undefined;
  const input = h(attrs.tag || "input", { ...attrs, tag: undefined, id, "aria-describedby": hintId });
  const row = h("div", { class: "field" }, h("label", { for: id }, label), input,
    hint ? h("small", { id: hintId, class: "hint" }, hint) : null);
  return { row, input };
}

/** An area where an operation's error shows, next to the control that caused it. */
export function errorArea() {
  const el = h("p", { class: "error", role: "alert", hidden: true });
  return {
    el,
    show(error) {
      el.textContent = error && error.message ? error.message : String(error);
      el.hidden = false;
    },
    clear() {
      el.textContent = "";
      el.hidden = true;
    },
  };
}

/** A transient confirmation at the top of the screen, read out by screen readers. */
export function notify(message) {
  const region = document.getElementById("notice");
  if (!region) return;
  region.textContent = message;
  region.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { region.hidden = true; }, 6000);
}

/**
 * A modal dialog (the native <dialog>: focus kept inside, Escape closes it). `body` is a node;
 * resolves to true when the user confirms.
 */
export function confirmDialog(title, body, confirmLabel, { danger = false } = {}) {
  return new Promise((resolve) => {
    const titleId = uid("dlg");
    const dialog = h("dialog", { "aria-labelledby": titleId },
      h("h2", { id: titleId }, title), body,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => dialog.close("cancel") }, "Cancel"),
        h("button", { type: "button", class: danger ? "danger" : "primary", onclick: () => dialog.close("ok") },
          confirmLabel)));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Runs `action` with `button` disabled meanwhile; errors go to `errors` (an errorArea). */
export async function busy(button, errors, action) {
  if (errors) errors.clear();
  button.disabled = true;
  try {
    return await action();
  } catch (error) {
    if (errors) errors.show(error);
    else notify(error.message);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** A table with a caption and header row; `rows` are arrays of cells (nodes or text). */
export function table(caption, headers, rows, empty) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    h("table", {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell, i) =>
        i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)))))));
}
