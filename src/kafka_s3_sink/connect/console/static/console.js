// The web console: a hash router over three pages, each built from the service's JSON.
// DOM nodes are made with textContent only (no innerHTML): keys, reasons and payloads are
// whatever producers sent, and must never become markup.
"use strict";

const main = () => document.getElementById("main");
let refreshTimer = null;

// -- helpers ---------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fromOrigin(path) { return new URL(path, location.origin).href; }

async function api(path, options) {
  // From the origin, not the page's URL: a page opened as http://user:pass@host/ui/ would
  // hand its credentials to relative URLs, which fetch refuses.
  const url = new URL(path, location.origin);
  const response = await fetch(url, { credentials: "same-origin", ...(options || {}) });
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = { message: text }; }
  if (!response.ok) {
    const message = (body && body.message) || response.statusText;
    throw new Error(`${response.status}: ${message}`);
  }
  return body;
}

function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

function count(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en"); }

function when(seconds) {
  if (!seconds) return "–";
  const d = new Date(seconds * 1000);
  return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

function stat(label, value, id) {
  return h("div", { class: "stat", "data-stat": id }, h("b", {}, value), h("span", {}, label));
}

function show(...nodes) { main().replaceChildren(...nodes); }

function failure(error) { return h("p", { class: "error" }, String(error.message || error)); }

function params() {
  const hash = location.hash.slice(1) || "/";
  const [path, query] = hash.split("?");
  return { path, query: new URLSearchParams(query || "") };
}

function link(path, query, text, attrs) {
  const q = new URLSearchParams(query || {}).toString();
  return h("a", { href: `#${path}${q ? "?" + q : ""}`, ...(attrs || {}) }, text);
}

// -- charts ----------------------------------------------------------------------------

// A line chart of points [{t, v}] (t in seconds), with its largest value as the scale.
function lineChart(points, label, format) {
  const W = 320, H = 110, L = 4, B = 16, T = 14;
  const max = Math.max(1e-9, ...points.map((p) => p.v));
  const t0 = points.length ? points[0].t : 0, t1 = points.length ? points[points.length - 1].t : 1;
  const x = (t) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * L);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  const line = points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  const last = points.length ? points[points.length - 1].v : 0;
  const minutes = Math.round((t1 - t0) / 60);
  return svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img",
                      "aria-label": label, "data-points": points.length },
    svg("text", { x: L, y: 10 }, `${label}: ${format(last)} now, max ${format(max)}`),
    svg("line", { x1: L, y1: H - B, x2: W - L, y2: H - B, stroke: "#dde1e7" }),
    points.length > 1
      ? svg("polyline", { points: line, fill: "none", stroke: "#2456c7", "stroke-width": 1.5 })
      : svg("text", { x: L, y: H / 2 }, "collecting samples…"),
    svg("text", { x: L, y: H - 3 }, points.length > 1 ? `last ${minutes || "<1"} min` : ""));
}

// Bars of [{label, value, href}]: counts per hour, each bar opening its hour.
function barChart(items, label) {
  const W = Math.max(320, items.length * 14), H = 140, B = 18, T = 14;
  const max = Math.max(1, ...items.map((i) => i.value));
  const step = (W - 8) / Math.max(1, items.length);
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img",
                             "aria-label": label, id: "hour-chart" },
    svg("text", { x: 4, y: 10 }, `${label} (max ${count(max)})`));
  items.forEach((item, i) => {
    const height = (item.value / max) * (H - T - B);
    const bar = svg("rect", { class: "bar", x: 4 + i * step + 1, y: H - B - height,
                              width: Math.max(2, step - 2), height: Math.max(height, 0.5),
                              "data-label": item.label, "data-count": item.value,
                              onclick: () => { if (item.href) location.hash = item.href; } },
      svg("title", {}, `${item.label}: ${count(item.value)} records`));
    chart.append(bar);
  });
  if (items.length) {
    chart.append(svg("text", { x: 4, y: H - 4 }, items[0].label));
    chart.append(svg("text", { x: W - 4, y: H - 4, "text-anchor": "end" },
                     items[items.length - 1].label));
  }
  return chart;
}

// -- overview --------------------------------------------------------------------------

async function overviewPage() {
  let data, statuses;
  try {
    [data, statuses] = await Promise.all([
      api("/ui/api/overview"), api("/connectors?expand=status")]);
  } catch (error) { show(h("h1", {}, "Overview"), failure(error)); return; }
  const names = Object.keys(statuses).sort();
  const cards = names.map((name) => connectorCard(name, statuses[name].status,
    data.connectors[name] || {}, data.rates[name] || []));
  show(
    h("h1", {}, "Overview"),
    h("p", { class: "muted" }, "Writing to ", h("b", { id: "store" }, data.store),
      ` · updated ${when(data.time)}`),
    names.length ? h("div", { class: "cards" }, cards)
                 : h("p", {}, "No connectors. POST one to /connectors."));
}

function connectorCard(name, status, numbers, rates) {
  const state = status.connector.state;
  const act = (what, method) => async (event) => {
    const button = event.target;
    button.disabled = true;
    try {
      await api(`/connectors/${encodeURIComponent(name)}/${what}`, { method });
      setTimeout(route, 400);
    } catch (error) { button.after(failure(error)); button.disabled = false; }
  };
  const tasks = status.tasks.map((task) => h("div", { class: "task" },
    h("span", {}, `task ${task.id} `),
    h("span", { class: `state ${task.state}`, "data-task-state": task.state }, task.state),
    task.trace ? h("pre", { class: "trace" }, task.trace) : null));
  const partitions = (numbers.partitions || []);
  return h("section", { class: "card connector", "data-connector": name },
    h("div", { class: "row" },
      h("h2", {}, name),
      h("span", { class: `state ${state}`, "data-state": state }, state)),
    status.connector.trace ? h("pre", { class: "trace" }, status.connector.trace) : null,
    tasks,
    h("div", { class: "stats" },
      stat("records", count(numbers.records), "records"),
      stat("bytes", bytes(numbers.bytes), "bytes"),
      stat("objects", count(numbers.objects), "objects"),
      stat("dead letters", count(numbers.dead_letters), "dead_letters"),
      stat("retries", count(numbers.retries), "retries"),
      stat("in flight", `${count(numbers.in_flight_objects)} / ${bytes(numbers.in_flight_bytes)}`,
           "in_flight")),
    h("div", { class: "charts" },
      lineChart(rates.map((p) => ({ t: p.t, v: p.records_per_s })), "records/s",
                (v) => v.toFixed(1)),
      lineChart(rates.map((p) => ({ t: p.t, v: p.bytes_per_s })), "bytes/s",
                (v) => `${bytes(Math.round(v))}`)),
    h("h3", {}, "Lag per partition"),
    partitions.length
      ? h("div", { class: "scroll" }, h("table", { class: "lag" },
          h("tr", {}, h("th", {}, "topic"), h("th", { class: "num" }, "partition"),
            h("th", { class: "num" }, "lag"), h("th", { class: "num hide-small" }, "committed")),
          partitions.map((p) => h("tr", {},
            h("td", {}, p.topic), h("td", { class: "num" }, p.partition),
            h("td", { class: "num" }, count(p.lag)),
            h("td", { class: "num hide-small" }, count(p.committed))))))
      : h("p", { class: "muted" }, "no partition assigned (or not running)"),
    h("div", { class: "row actions" },
      h("button", { onclick: act("pause", "PUT"), "data-action": "pause" }, "Pause"),
      h("button", { onclick: act("resume", "PUT"), "data-action": "resume" }, "Resume"),
      h("button", { onclick: act("restart?includeTasks=true", "POST"), "data-action": "restart" },
        "Restart")));
}

// -- archive ---------------------------------------------------------------------------

function crumbs(prefix) {
  const parts = prefix.split("/").filter(Boolean);
  const nodes = [link("/archive", {}, "archive")];
  let path = "";
  for (const part of parts) {
    path += part + "/";
    nodes.push(h("span", {}, "/"), link("/archive", { prefix: path }, part));
  }
  return h("div", { class: "crumbs" }, nodes);
}

function isoDay(date) { return date.toISOString().slice(0, 10); }

async function archivePage(query) {
  const prefix = query.get("prefix") || "";
  const page = Number(query.get("page") || 0);
  const fresh = query.get("fresh") === "1" ? "&fresh=1" : "";
  const url = `/ui/api/folder?page=${page}${fresh}` +
    (prefix ? `&prefix=${encodeURIComponent(prefix)}` : "");
  let data;
  try { data = await api(url); } catch (error) {
    show(h("h1", {}, "Archive"), crumbs(prefix), failure(error)); return;
  }
  const refresh = h("button", { onclick: () => {
    location.hash = `#/archive?${new URLSearchParams({ prefix: data.prefix, page, fresh: 1 })}`;
  } }, "Refresh");
  const head = [h("h1", {}, "Archive"), h("div", { class: "row" }, crumbs(data.prefix), refresh)];
  if (data.kind === "folders") {
    show(...head,
      data.topic ? hourRange(data.prefix, data.topic, query) : null,
      h("div", { class: "folders" }, data.folders.map((folder) =>
        link("/archive", { prefix: folder }, folder.slice(data.prefix.length).replace(/\/$/, ""),
             { "data-folder": folder }))),
      h("p", { class: "muted" }, `${data.folders.length} folders`));
    return;
  }
  show(...head, recordsTable(data));
}

function hourRange(prefix, topic, query) {
  const today = new Date();
  const from = query.get("from") || isoDay(new Date(today.getTime() - 2 * 86400000));
  const to = query.get("to") || isoDay(new Date(today.getTime() + 86400000));
  const fromInput = h("input", { type: "date", value: from, id: "range-from" });
  const toInput = h("input", { type: "date", value: to, id: "range-to" });
  const area = h("div", { id: "hours" }, h("p", { class: "muted" }, "Counting records per hour…"));
  const apply = () => {
    location.hash = `#/archive?${new URLSearchParams({ prefix, from: fromInput.value,
                                                       to: toInput.value })}`;
  };
  api(`/ui/api/hours?topic=${encodeURIComponent(topic)}&from=${from}&to=${to}`).then((data) => {
    // Every hour of the range gets its bar (empty hours too), so that gaps show as gaps.
    const found = new Map(data.hours.map((hour) => [hour.label, hour]));
    const items = [];
    for (let day = new Date(from + "T00:00:00Z"); isoDay(day) <= to;
         day = new Date(day.getTime() + 86400000)) {
      for (let hour = 0; hour < 24; hour++) {
        const label = `${isoDay(day)} ${String(hour).padStart(2, "0")}h`;
        const entry = found.get(label);
        items.push({ label, value: entry ? entry.records : 0,
                     href: entry ? `#/archive?${new URLSearchParams({ prefix: entry.prefix })}` : null });
      }
    }
    area.replaceChildren(data.hours.length ? barChart(items, "records per hour")
                                           : h("p", { class: "muted" }, "no hour folders in this range"));
  }).catch((error) => area.replaceChildren(failure(error)));
  return h("section", { class: "card" },
    h("div", { class: "row" }, h("b", {}, `Records per hour of ${topic}`),
      h("label", {}, "from ", fromInput), h("label", {}, "to ", toInput),
      h("button", { onclick: apply }, "Show")),
    area);
}

function objectLink(listed, text) {
  if (!listed) return h("span", { class: "muted" }, "–");
  return link("/object", { key: listed.key }, text || bytes(listed.size),
              { "data-key": listed.key });
}

function recordsTable(data) {
  const pages = Math.max(1, Math.ceil(data.total / data.size));
  const go = (page) => `#/archive?${new URLSearchParams({ prefix: data.prefix, page })}`;
  return h("div", {},
    h("p", { class: "muted", id: "record-count" },
      `${count(data.total)} records (${count(data.objects)} objects) · page ${data.page + 1} of ${pages}`),
    h("div", { class: "scroll" }, h("table", { id: "records" },
      h("tr", {}, h("th", { class: "num" }, "partition"), h("th", { class: "num" }, "offset"),
        h("th", {}, "payload"), h("th", {}, "timestamp"), h("th", { class: "hide-small" }, "stored")),
      data.records.map((r) => h("tr", {},
        h("td", { class: "num" }, r.partition ?? "–"), h("td", { class: "num" }, r.offset ?? "–"),
        h("td", {}, r.payload ? objectLink(r.payload, r.payload.key.split("/").pop()) :
          r.others.map((o) => objectLink(o, o.key.split("/").pop()))),
        h("td", {}, objectLink(r.timestamp, "timestamp")),
        h("td", { class: "hide-small" }, when((r.payload || r.timestamp || r.others[0] || {}).modified)))))),
    h("div", { class: "pager row" },
      data.page > 0 ? h("a", { href: go(data.page - 1) }, "← previous") : null,
      data.page + 1 < pages ? h("a", { href: go(data.page + 1), id: "next-page" }, "next →") : null));
}

// -- one object ------------------------------------------------------------------------

function previewOf(data) {
  const p = data.preview;
  const note = p.gzip ? h("p", { class: "muted" }, `gzip: ${bytes(p.size)} → ${bytes(p.shown_size)}`) : null;
  if (p.kind === "image") {
    return h("div", { class: "preview" }, note,
      h("img", { src: fromOrigin(data.raw), alt: data.key.split("/").pop(), id: "preview-image" }));
  }
  if (p.kind === "json" || p.kind === "text") {
    return h("div", { class: "preview" }, note,
      h("pre", { id: "preview-text", "data-kind": p.kind }, p.text),
      p.truncated ? h("p", { class: "muted" }, "(first part only)") : null);
  }
  return h("div", { class: "preview" }, note,
    h("pre", { class: "hex", id: "preview-hex" }, p.hex),
    p.truncated ? h("p", { class: "muted" }, "(first bytes only)") : null);
}

async function objectPage(query) {
  const key = query.get("key") || "";
  let data;
  try { data = await api(`/ui/api/object?key=${encodeURIComponent(key)}`); } catch (error) {
    show(h("h1", {}, "Object"), failure(error)); return;
  }
  const folder = key.slice(0, key.lastIndexOf("/") + 1);
  const facts = h("table", { id: "facts" },
    h("tr", {}, h("th", {}, "key"), h("td", { id: "object-key" }, data.key)),
    h("tr", {}, h("th", {}, "size"), h("td", {}, `${bytes(data.size)} (${count(data.size)} bytes)`)),
    h("tr", {}, h("th", {}, "stored"), h("td", {}, when(data.modified))),
    h("tr", {}, h("th", {}, "type"), h("td", {}, data.preview.kind + (data.preview.gzip ? " (gzip)" : ""))));
  const side = [];
  const pair = data.pair;
  if (pair) {
    const other = [pair.payload, pair.timestamp].find((o) => o && o.key !== data.key);
    side.push(h("section", { class: "card" }, h("h2", {}, "Timestamp"),
      h("pre", { id: "timestamp-text" }, pair.timestamp_text ?? "(no timestamp object)"),
      other ? h("p", {}, "The other object of this record: ", objectLink(other, other.key.split("/").pop())) : null,
      h("p", { class: "muted" }, `partition ${pair.partition ?? "–"}, offset ${pair.offset ?? "–"}`)));
  }
  if (data.dead_letter) {
    side.push(h("section", { class: "card" }, h("h2", {}, "Dead letter"),
      h("pre", { class: "trace" }, data.dead_letter.reason || "(no reason)")));
  }
  show(h("h1", {}, "Object"), crumbs(folder),
    h("section", { class: "card" }, h("div", { class: "scroll" }, facts),
      h("p", {}, h("a", { href: fromOrigin(data.download), id: "download" }, "Download"))),
    h("div", { class: "pair" },
      h("section", { class: "card" }, h("h2", {}, "Payload"), previewOf(data)),
      h("div", {}, side)));
}

// -- dead letters ----------------------------------------------------------------------

async function deadPage(query) {
  const page = Number(query.get("page") || 0);
  const fresh = query.get("fresh") === "1" ? "&fresh=1" : "";
  let data;
  try { data = await api(`/ui/api/deadletters?page=${page}${fresh}`); } catch (error) {
    show(h("h1", {}, "Dead letters"), failure(error)); return;
  }
  const pages = Math.max(1, Math.ceil(data.total / data.size));
  const rows = data.items.map((item) => {
    const result = h("div", { class: "result" });
    const hex = h("div", {});
    const showHex = async () => {
      try {
        const object = await api(`/ui/api/object?key=${encodeURIComponent(item.key)}`);
        hex.replaceChildren(h("pre", { class: "hex" }, object.preview.hex || "(empty)"));
      } catch (error) { hex.replaceChildren(failure(error)); }
    };
    const rerun = async (event) => {
      event.target.disabled = true;
      try {
        const answer = await api("/ui/api/deadletters/rerun", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ key: item.key }) });
        result.replaceChildren(...answer.results.map((r) => h("div", {},
          `${r.connector}: `,
          r.written ? h("span", {}, "archived as ",
            r.written.map((k) => link("/object", { key: k }, k.split("/").pop()))) :
          h("span", { class: "error" }, r.error || r.skipped))));
      } catch (error) { result.replaceChildren(failure(error)); }
      event.target.disabled = false;
    };
    return h("tr", { "data-dead-letter": item.key },
      h("td", { class: "hide-small" }, when(item.modified)),
      h("td", {}, item.topic ?? "–"), h("td", { class: "num" }, item.partition ?? "–"),
      h("td", { class: "num" }, item.offset ?? "–"),
      h("td", { class: "reason" }, item.reason ?? "(no reason file)", hex, result),
      h("td", {}, h("div", { class: "row" },
        h("button", { onclick: showHex, "data-action": "hex" }, "Hex"),
        h("button", { onclick: rerun, "data-action": "rerun" }, "Re-run"),
        link("/object", { key: item.key }, "open"))));
  });
  show(h("h1", {}, "Dead letters"),
    h("p", { class: "muted", id: "dead-count" },
      `${count(data.total)} dead letters, newest first · page ${page + 1} of ${pages} · `,
      h("a", { href: `#/dead?page=${page}&fresh=1` }, "refresh")),
    h("p", { class: "muted" }, "Re-run converts the record again with the running connectors " +
      "of its topic and archives it if it now converts; the dead letter stays."),
    h("div", { class: "scroll" }, h("table", { id: "dead-letters" },
      h("tr", {}, h("th", { class: "hide-small" }, "stored"), h("th", {}, "topic"),
        h("th", { class: "num" }, "partition"), h("th", { class: "num" }, "offset"),
        h("th", {}, "reason"), h("th", {}, "")),
      rows)),
    h("div", { class: "pager row" },
      page > 0 ? h("a", { href: `#/dead?page=${page - 1}` }, "← previous") : null,
      page + 1 < pages ? h("a", { href: `#/dead?page=${page + 1}` }, "next →") : null));
}

// -- router ----------------------------------------------------------------------------

async function route() {
  clearTimeout(refreshTimer);
  const { path, query } = params();
  for (const [id, prefix] of [["nav-overview", "/"], ["nav-archive", "/archive"], ["nav-dead", "/dead"]]) {
    const active = prefix === "/" ? path === "/" : path.startsWith(prefix) ||
      (prefix === "/archive" && path === "/object");
    document.getElementById(id).classList.toggle("active", active);
  }
  if (path === "/archive") await archivePage(query);
  else if (path === "/object") await objectPage(query);
  else if (path === "/dead") await deadPage(query);
  else {
    await overviewPage();
    refreshTimer = setTimeout(() => { if (params().path === "/") route(); }, 5000);
  }
  document.body.dataset.page = path;
  document.body.dataset.loaded = String(Date.now());
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
