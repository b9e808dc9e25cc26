// Share links of one set or album, for its owner: a form that makes one (expiry, preset,
// password, downloads), the link just made, and the list with expiry, view counts and Revoke.

import { api } from "./api.js";
import { esc, stamp } from "./format.js";

const EXPIRIES = [["86400", "1 day"], ["604800", "7 days"], ["2592000", "30 days"], ["31536000", "1 year"]];

export function presetOptions(presets) {
  return presets.map((p) => `<option value="${esc(p.name)}">${esc(p.name)}</option>`).join("");
}

/** The form's HTML; `shareControls` wires it once it is in the page. */
export function shareForm(presets, { label = "Create share link" } = {}) {
  return `<form class="share"><label>Link for <select name="expires_in">${EXPIRIES.map(([v, l]) => `<option value="${v}">${l}</option>`).join("")}</select></label>
      <label>Preset <select name="preset">${presetOptions(presets)}</select></label>
      <label>Password <input name="password" type="password" autocomplete="new-password" placeholder="optional"></label>
      <label><input name="allow_download" type="checkbox" checked> Downloads allowed</label>
      <button>${esc(label)}</button>
      <output class="share-url"></output><p class="error" role="alert" hidden></p></form>`;
}

export const shareListHtml = '<section class="shares"><h2>Share links</h2><div class="share-list"></div></section>';

function listHtml(shares) {
  if (!shares.length) return "<p>No links yet.</p>";
  return `<table><thead><tr><th>Made</th><th>Preset</th><th>Expires</th><th>Views</th>
      <th>State</th><th></th></tr></thead><tbody>${shares.map((s) => `<tr data-id="${s.id}">
      <td>${esc(stamp(s.created_at))}</td><td>${esc(s.preset)}${s.has_password ? " 🔒" : ""}${s.allow_download ? " ⬇" : ""}</td>
      <td class="expires">${esc(stamp(s.expires_at))}</td><td class="views">${s.view_count}</td><td class="state">${esc(s.state)}</td>
      <td>${s.state === "active" ? '<button type="button" class="revoke">Revoke</button>' : ""}</td></tr>`).join("")}
      </tbody></table>`;
}

/** Wire the form and list in `root` to `base` (`/api/publish-sets/<id>` or `/api/albums/<id>`). */
export function shareControls(root, base) {
  const box = root.querySelector(".share-list");
  const form = root.querySelector("form.share");
  const refresh = async () => {
    const { shares } = await api(`${base}/shares`);
    box.innerHTML = listHtml(shares);
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const problem = form.querySelector(".error");
    problem.hidden = true;
    const body = {
      expires_in: Number(form.expires_in.value),
      preset: form.preset.value,
      allow_download: form.allow_download.checked,
    };
    if (form.password.value) body.password = form.password.value;
    let made;
    try {
      made = await api(`${base}/shares`, { method: "POST", body });
    } catch (error) {
      problem.textContent = `Could not make the link: ${error.message}`;
      problem.hidden = false;
      return;
    }
    const out = form.querySelector(".share-url");
    out.innerHTML = `<a href="${esc(made.url)}" target="_blank" rel="noopener">${esc(made.url)}</a>
      <button type="button" class="copy">Copy</button> <span class="until">until ${esc(stamp(made.expires_at))}</span>`;
    out.querySelector(".copy").addEventListener("click", () => navigator.clipboard?.writeText(made.url));
    form.password.value = "";
    refresh();
  });
  box.addEventListener("click", async (e) => {
    const row = e.target.closest("button.revoke")?.closest("tr");
    if (!row) return;
    await api(`/api/shares/${row.dataset.id}`, { method: "DELETE" });
    refresh();
  });
  return refresh().catch(() => {});
}
