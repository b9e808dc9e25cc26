// Sign-in: username and password; on success, back to where the user was going. While the
// server has no account at all, the first-run form instead (the first account is an admin).

import { api } from "../api.js";
import { esc } from "../format.js";

function safeNext(params) {
  const next = params.get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function failureText(failure, fallback) {
  return failure.status === 422 || failure.status === 403 || failure.status === 409
    ? esc(failure.message)
    : `${fallback}: ${esc(failure.message)}`;
}

function bindForm(form, submit) {
  const error = form.querySelector(".error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.hidden = true;
    try {
      await submit(new FormData(form));
    } catch (failure) {
      error.innerHTML = failure.html ?? esc(failure.message);
      error.hidden = false;
      button.disabled = false;
    }
  });
}

function signInForm(main, params) {
  document.title = "Sign in · Image Assistant";
  main.innerHTML = `<form class="login" novalidate>
      <h1>Image Assistant</h1>
      <p class="hint">Sign in to see your photos.</p>
      <label>Username <input name="username" autocomplete="username" required autofocus></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <p class="error" role="alert" hidden></p>
      <button type="submit">Sign in</button>
    </form>`;
  const form = main.querySelector("form");
  bindForm(form, async (data) => {
    try {
      await api("/api/auth/login", {
        method: "POST",
        body: { username: data.get("username"), password: data.get("password") },
      });
    } catch (failure) {
      form.querySelector("input[name=password]").select();
      failure.html = failure.status === 401 ? "Wrong username or password." : failureText(failure, "Could not sign in");
      throw failure;
    }
    location.assign(safeNext(params));
  });
}

function firstRunForm(main, { code_required: codeRequired }) {
  document.title = "Create the first account · Image Assistant";
  const codeField = codeRequired
    ? `<label>Setup code <input name="setup_code" autocomplete="off" required
         placeholder="XXXX-XXXX-XXXX" spellcheck="false"></label>
       <p class="hint">You are not on the server's own machine: enter the setup code that
       <code>image-assistant serve</code> printed when it started (also in <code>setup-code</code>
       in its data directory).</p>`
    : "";
  main.innerHTML = `<form class="login first-run" novalidate>
      <h1>Create the first account</h1>
      <p class="hint">This server has no account yet. The first one is an administrator: it can
      add the other people later.</p>
      <label>Username <input name="username" autocomplete="username" required autofocus></label>
      <label>Password <input name="password" type="password" autocomplete="new-password" required
        minlength="10" aria-describedby="pw-rule"></label>
      <p class="hint" id="pw-rule">At least 10 characters.</p>
      ${codeField}
      <p class="error" role="alert" hidden></p>
      <button type="submit">Create account</button>
    </form>`;
  bindForm(main.querySelector("form"), async (data) => {
    const body = { username: data.get("username"), password: data.get("password") };
    if (codeRequired) body.setup_code = data.get("setup_code");
    try {
      await api("/api/setup", { method: "POST", body });
    } catch (failure) {
      failure.html = failureText(failure, "Could not create the account");
      throw failure;
    }
    location.assign("/");
  });
}

export function loginPage(main, { params }) {
  api("/api/setup")
    .then((setup) => (setup.open ? firstRunForm(main, setup) : signInForm(main, params)))
    .catch(() => signInForm(main, params));
  return null;
}
