// People (administrators): every account with its photos, storage and last sign-in; add one
// with a password or by an invitation link; make admin, disable, or send a password-reset link.

import { api } from "../api.js";
import { ago, bytes, esc, stamp } from "../format.js";

function status(u) {
  if (u.disabled) return '<span class="pill pill-revoked">disabled</span>';
  if (u.invited) return '<span class="pill pill-pending">invited</span>';
  return '<span class="pill pill-active">active</span>';
}

function row(u, me) {
  const self = u.id === me.id;
  return `<tr data-id="${u.id}" data-username="${esc(u.username)}">
    <th scope="row">${esc(u.username)}${self ? " (you)" : ""}${u.is_admin ? ' <span class="pill">admin</span>' : ""}</th>
    <td>${status(u)}</td><td>${Number(u.photo_count).toLocaleString()}</td><td>${esc(bytes(u.bytes_stored))}</td>
    <td title="${esc(stamp(u.last_sign_in_at))}">${u.last_sign_in_at ? esc(ago(u.last_sign_in_at)) : "never"}</td>
    <td class="actions">
      <button type="button" data-action="admin" data-value="${!u.is_admin}">${u.is_admin ? "Remove admin" : "Make admin"}</button>
      <button type="button" data-action="disabled" data-value="${!u.disabled}" class="${u.disabled ? "" : "danger"}">
        ${u.disabled ? "Enable" : "Disable"}</button>
      <button type="button" data-action="reset">${u.invited ? "New invitation link" : "Reset link"}</button>
    </td></tr>`;
}

function linkBox(title, link, who) {
  return `<div class="link-box" role="status"><p><strong>${esc(title)}</strong> for ${esc(who)}: send them this
    link; it works once, until ${esc(stamp(link.expires_at))}.</p>
    <input class="link" readonly value="${esc(link.url)}" aria-label="Link for ${esc(who)}" size="60">
    <button type="button" class="copy">Copy</button></div>`;
}

export function peoplePage(main, { me }) {
  document.title = "People · Image Assistant";
  main.innerHTML = `<div class="toolbar"><h1>People</h1></div>
    <div class="link-slot"></div>
    <div class="table-wrap"><table class="accounts"><thead><tr><th>Account</th><th>Status</th><th>Photos</th>
      <th>Stored</th><th>Last sign-in</th><th>Actions</th></tr></thead><tbody></tbody></table></div>
    <section aria-labelledby="add-h"><h2 id="add-h">Add a person</h2>
      <form class="stack add-person" novalidate>
        <label>Username <input name="username" autocomplete="off" required></label>
        <fieldset><legend>How they get in</legend>
          <label><input type="radio" name="how" value="invite" checked> An invitation link: they choose their password</label>
          <label><input type="radio" name="how" value="password"> A password I give them</label></fieldset>
        <label class="password-field" hidden>Password <input name="password" type="password" autocomplete="new-password" minlength="10"></label>
        <label><input type="checkbox" name="is_admin"> Administrator (can manage people)</label>
        <p class="error" role="alert" hidden></p>
        <button type="submit">Add</button>
      </form></section>`;
  const tbody = main.querySelector("tbody");
  const slot = main.querySelector(".link-slot");
  const load = async () => {
    const { users } = await api("/api/users");
    tbody.innerHTML = users.map((u) => row(u, me)).join("");
  };
  const form = main.querySelector(".add-person");
  form.addEventListener("change", () => {
    form.querySelector(".password-field").hidden = form.elements.how.value !== "password";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const error = form.querySelector(".error");
    error.hidden = true;
    const username = data.get("username");
    const isAdmin = data.get("is_admin") === "on";
    try {
      if (data.get("how") === "invite") {
        const made = await api("/api/invitations", { method: "POST", body: { username, is_admin: isAdmin } });
        slot.innerHTML = linkBox("Invitation", made, username);
      } else {
        await api("/api/users", { method: "POST", body: { username, password: data.get("password"), is_admin: isAdmin } });
        slot.innerHTML = `<p class="done" role="status">Added ${esc(username)}.</p>`;
      }
      form.reset();
      form.querySelector(".password-field").hidden = true;
      await load();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  main.addEventListener("click", async (event) => {
    if (event.target.closest("button.copy")) {
      const input = slot.querySelector("input.link");
      input.select();
      navigator.clipboard?.writeText(input.value);
      return;
    }
    const button = event.target.closest("tr button[data-action]");
    if (!button) return;
    const tr = button.closest("tr");
    const { action, value } = button.dataset;
    try {
      if (action === "reset") {
        const link = await api(`/api/users/${tr.dataset.id}/reset-link`, { method: "POST" });
        slot.innerHTML = linkBox(link.purpose === "invitation" ? "Invitation" : "Password reset", link, tr.dataset.username);
      } else {
        const field = action === "admin" ? "is_admin" : "disabled";
        await api(`/api/users/${tr.dataset.id}`, { method: "PATCH", body: { [field]: value === "true" } });
      }
      await load();
    } catch (failure) {
      slot.innerHTML = `<p class="error" role="alert">${esc(failure.message)}</p>`;
    }
  });
  load();
  return null;
}
