// Devices: pending ones with the 6-digit code to type into the agent and its time left,
// paired ones with a Revoke button, and revoked ones for the record.

import { api } from "../api.js";
import { ago, esc, stamp } from "../format.js";

const REFRESH_MS = 15000;

function timeLeft(expiresAt, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((new Date(expiresAt).getTime() - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function pendingCard(d) {
  const live = d.verification_code && d.code_expires_at;
  const code = live
    ? `<p class="code" aria-label="Pairing code ${d.verification_code.split("").join(" ")}">${esc(d.verification_code)}</p>
       <p class="left"><span class="countdown" data-expires="${esc(d.code_expires_at)}">${timeLeft(d.code_expires_at)}</span> left</p>`
    : '<p class="left">The code has expired. Start pairing again on the device to get a new one.</p>';
  return `<li class="device pending" data-device-id="${d.id}">
      <h3>${esc(d.name)}</h3><p class="meta">${esc([d.platform, d.os_version].filter(Boolean).join(" "))}
      · asked ${esc(ago(d.created_at))}</p>
      ${code}
      <p class="hint">Type this code into the agent on ${esc(d.name)} to pair it${d.status === "active"
        ? " again; it stays paired as it is until then" : ""}.</p>
      ${d.status === "active" ? "" : `<button type="button" class="revoke" data-device-id="${d.id}">Refuse</button>`}</li>`;
}

function deviceCard(d) {
  const active = d.status === "active";
  const action = active
    ? `<button type="button" class="revoke danger" data-device-id="${d.id}"
         aria-label="Revoke ${esc(d.name)}">Revoke</button>`
    : "";
  return `<li class="device ${esc(d.status)}" data-device-id="${d.id}">
      <h3>${esc(d.name)} <span class="pill pill-${esc(d.status)}">${esc(d.status)}</span></h3>
      <p class="meta">${esc([d.platform, d.os_version].filter(Boolean).join(" "))}</p>
      <p class="meta">Last sync: <span title="${esc(stamp(d.last_sync_at))}">${esc(ago(d.last_sync_at))}</span>
      · ${Number(d.photos_synced ?? 0).toLocaleString()} photos</p>${action}</li>`;
}

function section(title, cls, items, render, empty) {
  return `<section class="${cls}" aria-labelledby="${cls}-h"><h2 id="${cls}-h">${title}</h2>
    ${items.length ? `<ul class="devices">${items.map(render).join("")}</ul>` : `<p class="empty">${empty}</p>`}
    </section>`;
}

export function devicesPage(main) {
  document.title = "Devices · Image Assistant";
  main.innerHTML = `<div class="toolbar"><h1>Devices</h1><a class="button" href="/devices/add">Add a device</a></div>
    <p class="hint">Install the agent on the Mac that holds your photos and start pairing there;
    its code appears here.</p><div class="devices-body" aria-busy="true"></div>`;
  const body = main.querySelector(".devices-body");
  const load = async () => {
    try {
      const { devices, pairing_locked_until: lockedUntil } = await api("/api/devices");
      body.removeAttribute("aria-busy");
      const asked = (d) => d.status === "pending" || (d.status === "active" && d.verification_code);
      const pending = devices.filter(asked);
      const paired = devices.filter((d) => d.status === "active");
      const revoked = devices.filter((d) => d.status !== "pending" && d.status !== "active");
      const locked = lockedUntil
        ? `<p class="error pairing-locked" role="alert">Too many wrong codes were typed: pairing locked until
           ${esc(stamp(lockedUntil))}. If that was not you, someone may be guessing codes for your account.</p>`
        : "";
      body.innerHTML = locked + section("Waiting to pair", "pending", pending, pendingCard, "No device is waiting.")
        + section("Paired", "paired", paired, deviceCard, "No paired devices yet.")
        + (revoked.length ? section("Revoked", "revoked", revoked, deviceCard, "") : "");
    } catch (error) {
      body.innerHTML = `<p class="error" role="alert">Could not load devices: ${esc(error.message)}</p>`;
    }
  };
  body.addEventListener("click", async (event) => {
    const button = event.target.closest("button.revoke");
    if (!button) return;
    const name = button.closest(".device").querySelector("h3").firstChild.textContent.trim();
    if (!window.confirm(`Revoke ${name}? It stops syncing at once and must be paired again.`)) return;
    button.disabled = true;
    try {
      await api(`/api/devices/${button.dataset.deviceId}`, { method: "DELETE" });
    } catch (error) {
      window.alert(`Could not revoke: ${error.message}`);
    }
    await load();
  });
  const tick = setInterval(() => {
    for (const el of body.querySelectorAll(".countdown")) {
      el.textContent = timeLeft(el.dataset.expires);
      if (el.textContent === "0:00") load();
    }
  }, 1000);
  const refresh = setInterval(load, REFRESH_MS);
  load();
  return () => {
    clearInterval(tick);
    clearInterval(refresh);
  };
}
