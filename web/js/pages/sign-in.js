import { api } from "../api.js";
import { h, show, status } from "../dom.js";

// Email and password, or an API token (`labelstack dev` prints the admin's; the account page shows
// anyone's): either is traded once for an HttpOnly session cookie, and the page keeps neither.
export function signInPage(done, notice = "") {  // done(session); notice: why the last session ended
  const note = status();
  if (notice) note.set(notice);

  async function signIn(body, clear) {
    note.set("Signing in…");
    try {
      const session = await api("POST", "/api/session", body);
      clear();
      done(session);
    } catch (error) {
      note.set(error.status === 401 && body.token ? "That token is not valid." : error.message, "error");
    }
  }

  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password",
    required: true });
  const token = h("input", { type: "password", name: "token", autocomplete: "off", required: true,
    "aria-label": "API token" });
  const withPassword = h("form", { onsubmit: (event) => {
    event.preventDefault();
    signIn({ email: email.value, password: password.value }, () => { password.value = ""; });
  } },
  h("label", {}, "Email", email),
  h("label", {}, "Password", password),
  h("button", { class: "primary", type: "submit" }, "Sign in"));
  const withToken = h("form", { class: "alternative", onsubmit: (event) => {
    event.preventDefault();
    signIn({ token: token.value }, () => { token.value = ""; });
  } },
  h("h2", {}, "Or with an API token"),
  h("label", {}, "API token", token),
  h("p", { class: "muted" }, "Your API token is on your account page; labelstack dev prints the admin's."),
  h("button", { type: "submit" }, "Sign in with token"));
  show(h("section", { class: "card narrow" }, h("h1", {}, "Sign in"), withPassword, note, withToken));
  email.focus();
}
