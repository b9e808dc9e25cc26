// Calls to the server's JSON API with the session cookie; a 401 sends the user to sign in.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function loginUrl() {
  const here = location.pathname + location.search;
  return here === "/" || here.startsWith("/login") ? "/login" : `/login?next=${encodeURIComponent(here)}`;
}

export async function api(path, { method = "GET", body, signal, priority = "auto" } = {}) {
  const response = await fetch(path, {
    method,
    signal,
    priority,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  // A wrong password is a 401 too: it is answered on the page, not by signing in again.
  const askedForPassword = path.startsWith("/api/auth/login") || path.startsWith("/api/auth/password");
  if (response.status === 401 && !askedForPassword) {
    location.assign(loginUrl());
  }
  if (!response.ok) {
    const error = data?.error ?? {};
    throw new ApiError(response.status, error.code ?? "error", error.message ?? response.statusText);
  }
  return data;
}

export const thumbnailUrl = (id, size, version = "current") =>
  `/api/photos/${id}/thumbnail/${size}?redirect=true${version === "original" ? "&version=original" : ""}`;
export const downloadUrl = (id) => `/api/photos/${id}/download?redirect=true`;
