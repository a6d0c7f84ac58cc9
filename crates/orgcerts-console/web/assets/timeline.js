// The expiry timeline: every anchor expiring within the next 12 months on one axis, coloured
// by how soon, with the months marked. A list under the chart says the same in text.

import { h, s } from "./dom.js";
import * as fmt from "./format.js";

const HEIGHT = 96;
const PAD = 16;
const YEAR = 365 * 86400;

/** `width`: the chart's width in pixels, so that its text keeps its size on any screen. */
export function timeline(certs, truncated, width) {
  const WIDTH = Math.max(280, Math.round(width || 720));
  // Below 560 px, every other month is labelled.
  const labelEvery = WIDTH < 560 ? 2 : 1;
  const start = fmt.now();
  const end = start + YEAR;
  const soon = certs
    .filter((c) => c.certificate_details.expires_at <= end)
    .sort((a, b) => a.certificate_details.expires_at - b.certificate_details.expires_at);
  const x = (t) => PAD + ((Math.max(t, start) - start) / YEAR) * (WIDTH - 2 * PAD);
  const axisY = HEIGHT - 28;
  const marks = [];
  const month = new Date(start * 1000);
  month.setUTCDate(1);
  month.setUTCHours(0, 0, 0, 0);
  for (let i = 1; i <= 12; i += 1) {
    const t = Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + i, 1) / 1000;
    if (t > end) break;
    marks.push(s("line", { x1: x(t), x2: x(t), y1: axisY - 4, y2: axisY + 4, class: "tick" }));
    // No label crowding "Today", and on narrow charts every other month only.
    if (i % labelEvery !== 0 || x(t) - PAD < 52) continue;
    marks.push(s("text", { x: x(t), y: axisY + 18, class: "tick-label", "text-anchor": "middle" },
        new Date(t * 1000).toLocaleString(undefined, { month: "short", timeZone: "UTC" })));
  }
  const points = soon.map((cert, i) => {
    const at = cert.certificate_details.expires_at;
    const level = fmt.expiryLevel(fmt.daysLeft(at));
    const y = axisY - 14 - (i % 3) * 16;
    return s("g", { class: ["point", level] },
      s("line", { x1: x(at), x2: x(at), y1: y, y2: axisY, class: "stem" }),
      s("circle", { cx: x(at), cy: y, r: 6 },
        s("title", {}, `${cert.name ?? cert.id}: expires ${fmt.date(at)}`)));
  });
  const chart = s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "timeline", role: "img",
    "aria-label": `${soon.length} of ${certs.length} certificates expire in the next 12 months` },
  s("line", { x1: PAD, x2: WIDTH - PAD, y1: axisY, y2: axisY, class: "axis" }),
  s("line", { x1: PAD, x2: PAD, y1: axisY - 8, y2: axisY + 8, class: "axis" }),
  s("text", { x: PAD, y: axisY + 18, class: "tick-label" }, "Today"),
  marks, points);
  const listing = soon.length === 0
    ? h("p", { class: "muted" }, certs.length === 0 ? "No certificates yet." : "No certificate expires in the next 12 months.")
    : h("ol", { class: "expiring" }, soon.map((cert) => {
      const days = fmt.daysLeft(cert.certificate_details.expires_at);
      return h("li", { class: fmt.expiryLevel(days) },
        h("span", { class: "dot", "aria-hidden": "true" }), h("strong", {}, cert.name ?? cert.id),
        ` expires ${fmt.date(cert.certificate_details.expires_at)} (${fmt.daysText(days)})`);
    }));
  return h("div", { class: "timeline-wrap" }, chart, listing,
    truncated ? h("p", { class: "muted" }, `Showing the ${certs.length} most recently uploaded certificates.`) : null);
}
