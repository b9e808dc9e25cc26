// The sync dashboard: totals, uploads waiting, thumbnail states, each device and its recent sync
// passes (one row per pass: a device's calls grouped by the server, see GET /api/sync/passes).

import { api } from "../api.js";
import { ago, bytes, count, esc, stamp } from "../format.js";

const REFRESH_MS = 10000;

function stat(label, value, extra = "") {
  return `<div class="stat ${extra}"><dt>${esc(label)}</dt><dd>${Number(value).toLocaleString()}</dd></div>`;
}

function totals(status) {
  const t = status.thumbnails;
  return `<section aria-labelledby="totals-h"><h2 id="totals-h">Library</h2>
    <dl class="stats" data-section="totals">
      ${stat("Photos", status.photos)}
      ${stat("Albums", status.albums)}
      ${stat("Originals stored", status.originals_stored)}
      ${stat("Uploads waiting", status.pending_uploads, status.pending_uploads ? "warn" : "")}
    </dl>
    <h2>Thumbnails</h2>
    <dl class="stats" data-section="thumbnails">
      ${stat("Pending", t.pending, t.pending ? "warn" : "")}
      ${stat("Processing", t.processing)}
      ${stat("Completed", t.completed)}
      ${stat("Failed", t.failed, t.failed ? "bad" : "")}
    </dl>
    <p class="hint">Last sync: <span data-field="last-sync">${status.last_sync_at ? `${esc(ago(status.last_sync_at))}
      (${esc(stamp(status.last_sync_at))})` : "never"}</span></p></section>`;
}

function deviceRows(devices) {
  if (!devices.length) return '<p class="empty">No devices yet. <a href="/devices">Pair one</a>.</p>';
  const rows = devices.map((d) => `<tr data-device-id="${d.id}">
      <th scope="row">${esc(d.name)}</th>
      <td>${esc([d.platform, d.os_version].filter(Boolean).join(" "))}</td>
      <td><span class="pill pill-${esc(d.status)}">${esc(d.status)}</span></td>
      <td title="${esc(stamp(d.last_sync_at))}">${esc(ago(d.last_sync_at))}</td>
      <td class="num" data-field="photos-synced">${Number(d.photos_synced ?? 0).toLocaleString()}</td>
    </tr>`);
  return `<div class="table-wrap"><table><caption class="sr-only">Devices</caption>
    <thead><tr><th scope="col">Device</th><th scope="col">Platform</th><th scope="col">Status</th>
    <th scope="col">Last sync</th><th scope="col" class="num">Photos synced</th></tr></thead>
    <tbody>${rows.join("")}</tbody></table></div>`;
}

function duration(seconds) {
  if (seconds < 1) return "under a second";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
}

function passRows(passes, names) {
  if (!passes.length) return '<p class="empty">No sync passes yet.</p>';
  const rows = passes.map((one) => {
    const errors = one.errors_count
      ? `<details><summary>${count(one.errors_count, "error")}</summary><ul>${(one.errors || [])
        .slice(0, 20).map((e) => `<li>${esc(typeof e === "string" ? e : e.message || JSON.stringify(e))}</li>`)
        .join("")}</ul></details>`
      : "0";
    return `<tr class="${one.errors_count ? "has-errors" : ""}" data-pass-device="${esc(one.device_id)}">
      <td title="${esc(stamp(one.started_at))}">${esc(ago(one.started_at))}</td>
      <td>${esc(names.get(one.device_id) ?? "removed device")}</td>
      <td class="num" data-field="duration">${esc(duration(one.duration_seconds))}</td>
      <td class="num" data-field="photos-sent">${Number(one.photos_sent).toLocaleString()}
        <span class="hint">(${one.created} new, ${one.updated} changed)</span></td>
      <td class="num" data-field="files">${Number(one.files_uploaded).toLocaleString()}</td>
      <td class="num" data-field="bytes">${esc(bytes(one.bytes_uploaded) || "0 B")}</td>
      <td class="num errors">${errors}</td></tr>`;
  });
  return `<div class="table-wrap"><table><caption class="sr-only">Recent sync passes</caption>
    <thead><tr><th scope="col">When</th><th scope="col">Device</th><th scope="col" class="num">Took</th>
    <th scope="col" class="num">Photos sent</th><th scope="col" class="num">Files uploaded</th>
    <th scope="col" class="num">Uploaded</th><th scope="col" class="num">Errors</th></tr></thead>
    <tbody>${rows.join("")}</tbody></table></div>`;
}

export function syncPage(main) {
  document.title = "Sync · Image Assistant";
  main.innerHTML = `<div class="toolbar"><h1>Sync</h1><p class="hint updated" role="status"></p></div>
    <div class="sync-body" aria-busy="true"></div>`;
  const body = main.querySelector(".sync-body");
  const updated = main.querySelector(".updated");
  const load = async () => {
    try {
      const [status, { devices }, { passes }] = await Promise.all([
        api("/api/sync/status"), api("/api/devices"), api("/api/sync/passes"),
      ]);
      const names = new Map(devices.map((d) => [d.id, d.name]));
      body.removeAttribute("aria-busy");
      body.innerHTML = `${totals(status)}
        <section aria-labelledby="devices-h"><h2 id="devices-h">Devices</h2>${deviceRows(devices)}</section>
        <section aria-labelledby="logs-h"><h2 id="logs-h">Recent sync passes</h2>
        ${passRows(passes, names)}</section>`;
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      updated.textContent = `Could not refresh: ${error.message}`;
    }
  };
  load();
  const timer = setInterval(load, REFRESH_MS);
  return () => clearInterval(timer);
}
