// The other end of an invitation or a password-reset link: /welcome#<token>. The token stays
// in the fragment (never sent to the server's log); the page checks it, then sets a password.

import { api } from "../api.js";
import { esc } from "../format.js";

const WHY = {
  link_used: "This link has been used already. Sign in, or ask your administrator for a new link.",
  link_expired: "This link has expired. Ask your administrator for a new one.",
  link_not_found: "This link is not valid. Check that you opened the whole link.",
};

export function welcomePage(main) {
  const token = decodeURIComponent(location.hash.slice(1));
  document.title = "Welcome · Image Assistant";
  main.innerHTML = '<div class="login" aria-busy="true"><h1>Image Assistant</h1></div>';
  const box = main.querySelector(".login");
  const refuse = (code, message) => {
    box.removeAttribute("aria-busy");
    box.innerHTML = `<h1>Image Assistant</h1><p class="error" role="alert">${esc(WHY[code] ?? message)}</p>
      <p><a href="/login">Sign in</a></p>`;
  };
  if (!token) {
    refuse("link_not_found");
    return null;
  }
  api("/api/account-links/check", { method: "POST", body: { token } })
    .then((link) => {
      const invited = link.purpose === "invitation";
      main.innerHTML = `<form class="login welcome" novalidate>
        <h1>${invited ? "Welcome" : "Choose a new password"}</h1>
        <p class="hint">${invited ? "Choose the password for your account" : "A new password for"}
        <strong class="username">${esc(link.username)}</strong>.</p>
        <label>Password <input name="password" type="password" autocomplete="new-password" required
          minlength="10" autofocus></label>
        <label>Again <input name="again" type="password" autocomplete="new-password" required></label>
        <p class="error" role="alert" hidden></p>
        <button type="submit">${invited ? "Create my password" : "Set password"}</button></form>`;
      const form = main.querySelector("form");
      const error = form.querySelector(".error");
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        error.hidden = true;
        if (data.get("password") !== data.get("again")) {
          error.textContent = "The two passwords differ.";
          error.hidden = false;
          return;
        }
        try {
          await api("/api/account-links/use", { method: "POST", body: { token, password: data.get("password") } });
          history.replaceState(null, "", "/welcome");
          location.assign("/");
        } catch (failure) {
          if (failure.status === 410 || failure.status === 404) refuse(failure.code, failure.message);
          else {
            error.textContent = failure.message;
            error.hidden = false;
          }
        }
      });
    })
    .catch((failure) => refuse(failure.code, failure.message));
  return null;
}
