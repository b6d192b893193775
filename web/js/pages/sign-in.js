import { api } from "../api.js";
import { h, show, status } from "../dom.js";

// There are no passwords: a user signs in once with their API token (`labelstack dev` prints the admin's;
// an admin gets others' from POST /api/users) and gets an HttpOnly session cookie in exchange.
export function signInPage(done, notice = "") {  // done(session); notice: why the last session ended
  const note = status();
  if (notice) note.set(notice);
  const token = h("input", { type: "password", name: "token", autocomplete: "current-password", required: true,
    "aria-label": "API token" });
  const form = h("form", { class: "card narrow", onsubmit: async (event) => {
    event.preventDefault();
    note.set("Signing in…");
    try {
      const session = await api("POST", "/api/session", { token: token.value });
      token.value = "";
      done(session);
    } catch (error) {
      note.set(error.status === 401 ? "That token is not valid." : error.message, "error");
    }
  } },
  h("h1", {}, "Sign in"),
  h("label", {}, "API token", token),
  h("p", { class: "muted" }, "Your API token is in your account settings, or printed by labelstack dev for the admin."),
  h("button", { class: "primary", type: "submit" }, "Sign in"),
  note);
  show(form);
  token.focus();
}
