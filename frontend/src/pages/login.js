// Sign-in: username and password; on success, back to where the user was going.

import { api } from "../api.js";
import { esc } from "../format.js";

function safeNext(params) {
  const next = params.get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function loginPage(main, { params }) {
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
  const error = main.querySelector(".error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const button = form.querySelector("button");
    button.disabled = true;
    error.hidden = true;
    try {
      await api("/api/auth/login", {
        method: "POST",
        body: { username: data.get("username"), password: data.get("password") },
      });
      location.assign(safeNext(params));
    } catch (failure) {
      error.innerHTML = failure.status === 401
        ? "Wrong username or password."
        : `Could not sign in: ${esc(failure.message)}`;
      error.hidden = false;
      button.disabled = false;
      form.querySelector("input[name=password]").select();
    }
  });
  return null;
}
