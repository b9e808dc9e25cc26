// Your account: change your password (the other sessions are signed out), and see where you
// are signed in, with a Sign out for any one of them or all the others.

import { api } from "../api.js";
import { ago, esc, stamp } from "../format.js";

function sessionRow(s) {
  const action = s.current
    ? '<span class="pill">this browser</span>'
    : `<button type="button" class="signout-one" data-id="${s.id}"
        aria-label="Sign out ${esc(s.client || "this session")}">Sign out</button>`;
  return `<tr data-id="${s.id}"><td>${esc(s.client || "Unknown browser")}</td><td>${esc(s.address || "–")}</td>
    <td title="${esc(stamp(s.last_seen_at))}">${esc(ago(s.last_seen_at))}</td>
    <td title="${esc(stamp(s.created_at))}">${esc(ago(s.created_at))}</td><td>${action}</td></tr>`;
}

export function accountPage(main, { me }) {
  document.title = "Account · Image Assistant";
  main.innerHTML = `<div class="toolbar"><h1>Your account</h1></div>
    <p class="meta">Signed in as <strong>${esc(me.username)}</strong>${me.is_admin ? " (administrator)" : ""}.</p>
    <section aria-labelledby="pw-h"><h2 id="pw-h">Change password</h2>
      <form class="stack password-form" novalidate>
        <label>Current password <input name="current" type="password" autocomplete="current-password" required></label>
        <label>New password <input name="new" type="password" autocomplete="new-password" minlength="10" required></label>
        <p class="hint">At least 10 characters. Your other browsers and apps are signed out.</p>
        <p class="error" role="alert" hidden></p><p class="done" role="status" hidden></p>
        <button type="submit">Change password</button>
      </form></section>
    <section aria-labelledby="sessions-h"><h2 id="sessions-h">Where you are signed in</h2>
      <div class="table-wrap"><table class="sessions"><thead><tr><th>Browser</th><th>From</th>
        <th>Last seen</th><th>Signed in</th><th></th></tr></thead><tbody></tbody></table></div>
      <button type="button" class="signout-others">Sign out all other sessions</button>
    </section>`;
  const tbody = main.querySelector("tbody");
  const load = async () => {
    const { sessions } = await api("/api/auth/sessions");
    tbody.innerHTML = sessions.map(sessionRow).join("");
  };
  const form = main.querySelector(".password-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const error = form.querySelector(".error");
    const done = form.querySelector(".done");
    error.hidden = done.hidden = true;
    try {
      await api("/api/auth/password", {
        method: "POST",
        body: { current_password: data.get("current"), new_password: data.get("new") },
      });
      form.reset();
      done.textContent = "Password changed; your other sessions are signed out.";
      done.hidden = false;
      await load();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  main.addEventListener("click", async (event) => {
    const one = event.target.closest("button.signout-one");
    if (one) {
      one.disabled = true;
      await api(`/api/auth/sessions/${one.dataset.id}`, { method: "DELETE" });
      await load();
    } else if (event.target.closest("button.signout-others")) {
      await api("/api/auth/sessions", { method: "DELETE" });
      await load();
    }
  });
  load();
  return null;
}
