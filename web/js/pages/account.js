// The signed-in user's own account: the API token, personal access tokens, the password, signing out.
// Every role has one, and may do everything here.

import { api, useCsrfToken } from "../api.js";
import { h, show, status } from "../dom.js";
import { copyField } from "../invites.js";

export async function accountPage({ user, signOut }) {
  const [tokens, password] = await Promise.all([api("GET", "/api/token"), api("GET", "/api/current-user/password")]);
  const name = [user.first_name, user.last_name].filter(Boolean).join(" ");
  show(h("h1", {}, "Account"),
    h("section", { class: "card" }, h("h2", {}, name || "Profile"),
      h("p", { "data-testid": "account-who" }, `${user.email} · ${user.role}`)),
    apiTokenCard(),
    personalTokensCard(tokens),
    passwordCard(password),
    signOutCard(signOut));
}

function apiTokenCard() {
  const note = status();
  const shown = h("div", { "data-testid": "api-token-area" });
  const showToken = async () => {
    try {
      const { token } = await api("GET", "/api/current-user/token");
      shown.replaceChildren(copyField("Your API token", token, "api-token"));
      note.set("");
    } catch (error) { note.set(error.message, "error"); }
  };
  const reset = async () => {
    try {
      const { token } = await api("POST", "/api/current-user/reset-token");
      // Resetting ends every session made before, this one too: sign this browser in again with the new
      // token, so the page goes on (the new session's CSRF token replaces the old one).
      const session = await api("POST", "/api/session", { token });
      useCsrfToken(session.csrf_token);
      shown.replaceChildren(copyField("Your API token", token, "api-token"));
      note.set("A new token replaces the old one, which no longer works; nor do your personal access tokens "
        + "or your other browser sessions.", "ok");
    } catch (error) { note.set(error.message, "error"); }
  };
  return h("section", { class: "card" }, h("h2", {}, "API token"),
    h("p", { class: "muted" }, "Scripts and the Label Studio SDK send it as ",
      h("code", {}, "Authorization: Token …"), "."),
    h("div", { class: "toolbar" },
      h("button", { type: "button", onclick: showToken }, "Show token"),
      h("button", { type: "button", onclick: reset }, "Reset token")),
    h("p", { class: "muted" }, "Resetting gives a new token and ends everything made with the old one: "
      + "personal access tokens and other browser sessions."),
    shown, note);
}

function personalTokensCard(tokens) {
  const note = status();
  const created = h("div");
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");
  const list = h("tbody");
  const none = h("p", { class: "muted" }, "No personal access tokens.");
  const table = h("table", { class: "tasks", "data-testid": "personal-tokens" },
    h("thead", {}, h("tr", {}, h("th", {}, "Created"), h("th", {}, "Expires"), h("th", {}))), list);
  const fill = (listed) => {
    list.replaceChildren(...listed.map(row));
    table.hidden = !listed.length;
    none.hidden = Boolean(listed.length);
  };
  const row = (t) => {
    const tr = h("tr", { "data-token": t.jti },
      h("td", {}, when(t.created_at)), h("td", {}, when(t.expires_at)),
      h("td", {}, h("button", { type: "button", onclick: async () => {
        try {
          await api("DELETE", `/api/token/${encodeURIComponent(t.jti)}`);
          created.replaceChildren();  // a token shown above may be this one: no dead token on screen
          fill(await api("GET", "/api/token"));
          note.set("Revoked: the token and the access tokens it gave stop working.", "ok");
        } catch (error) { note.set(error.message, "error"); }
      } }, "Revoke")));
    return tr;
  };
  fill(tokens);
  const create = async () => {
    try {
      const token = await api("POST", "/api/token");
      fill(await api("GET", "/api/token"));
      created.replaceChildren(h("p", { class: "muted" }, "Your new personal access token, shown this once:"),
        copyField("New personal access token", token.token, "new-pat"));
      note.set("");
    } catch (error) { note.set(error.message, "error"); }
  };
  return h("section", { class: "card" }, h("h2", {}, "Personal access tokens"),
    h("p", { class: "muted" }, "For the Label Studio SDK's ", h("code", {}, "api_key"),
      ": it trades one for short-lived access tokens. Revoke one to end it alone."),
    table, none,
    h("div", { class: "toolbar spaced" }, h("button", { type: "button", onclick: create }, "Create token")),
    created, note);
}

function passwordCard(rules, saved = "") {
  const { has_password: hasPassword, min_length: minLength, max_length: maxLength } = rules;
  const note = status();
  if (saved) note.set(saved, "ok");
  const current = h("input", { type: "password", name: "old_password", autocomplete: "current-password",
    required: true });
  const fresh = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true,
    minlength: minLength, maxlength: maxLength });
  const repeat = h("input", { type: "password", name: "repeat", autocomplete: "new-password", required: true });
  const form = h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    if (fresh.value !== repeat.value) { note.set("The two new passwords differ.", "error"); return; }
    try {
      const now = await api("POST", "/api/current-user/password",
        { ...(hasPassword ? { old_password: current.value } : {}), password: fresh.value });
      // Drawn again: a password once set is asked for before the next change.
      form.replaceWith(passwordCard(now, "Password saved. Your other browser sessions were signed out."));
    } catch (error) { note.set(error.message, "error"); }
  } },
  h("h2", {}, "Password"),
  hasPassword ? h("label", {}, "Current password", current)
    : h("p", { class: "muted" }, "You have no password yet: set one to sign in with your email."),
  h("label", {}, `New password (${minLength} to ${maxLength} characters)`, fresh),
  h("label", {}, "Repeat the new password", repeat),
  h("button", { class: "primary", type: "submit" }, hasPassword ? "Change password" : "Set password"),
  note);
  return form;
}

function signOutCard(signOut) {
  const note = status();
  return h("section", { class: "card" }, h("h2", {}, "Sessions"),
    h("div", { class: "toolbar" },
      h("button", { type: "button", onclick: () => signOut() }, "Sign out of this browser"),
      h("button", { type: "button", onclick: async () => {
        try {
          await api("POST", "/api/current-user/sign-out-everywhere");
          await signOut({ ended: true });
        } catch (error) { note.set(error.message, "error"); }
      } }, "Sign out everywhere")),
    h("p", { class: "muted" }, "Signing out everywhere ends every browser session and every token you have, and "
      + "gives you a new API token (shown on this page after you sign in again)."),
    note);
}
