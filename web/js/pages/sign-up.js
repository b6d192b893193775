import { api } from "../api.js";
import { h, show, status } from "../dom.js";

const MIN_LENGTH = 8;  // functions/domain/passwords.py

// The page an invitation link opens: what the invitation carries, then the new user's email, name and
// password. Signing up signs the browser in (POST /api/signup answers a session, as sign-in does).
export async function signUpPage(token, done) {  // done(session)
  let invite;
  try {
    invite = await api("POST", "/api/invite/check", { token });
  } catch (error) {
    show(h("section", { class: "card narrow" }, h("h1", {}, "Sign up"),
      h("p", { class: "status error", "data-testid": "invite-invalid" },
        error.body?.validation_errors?.token?.[0] || error.message),
      h("a", { href: "#/signin" }, "Sign in")));
    return;
  }
  const note = status();
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true,
    value: invite.email || "", readonly: Boolean(invite.email) });
  const firstName = h("input", { name: "first_name", autocomplete: "given-name", maxlength: 150 });
  const lastName = h("input", { name: "last_name", autocomplete: "family-name", maxlength: 150 });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true,
    minlength: MIN_LENGTH, maxlength: 128 });
  const repeat = h("input", { type: "password", name: "repeat", autocomplete: "new-password", required: true });
  const what = `You are invited as ${article(invite.role)} ${invite.role}`
    + (invite.project ? ` to the project “${invite.project.title}”.` : ".");
  show(h("form", { class: "card narrow", onsubmit: async (event) => {
    event.preventDefault();
    if (password.value !== repeat.value) { note.set("The two passwords differ.", "error"); return; }
    note.set("Creating your account…");
    try {
      const session = await api("POST", "/api/signup", { token, email: email.value, password: password.value,
        first_name: firstName.value, last_name: lastName.value });
      password.value = repeat.value = "";
      done(session);
    } catch (error) { note.set(error.message, "error"); }
  } },
  h("h1", {}, "Create your account"),
  h("p", { "data-testid": "invite-summary" }, what),
  h("label", {}, "Email", email),
  h("div", { class: "pair" }, h("label", {}, "First name", firstName), h("label", {}, "Last name", lastName)),
  h("label", {}, `Password (at least ${MIN_LENGTH} characters)`, password),
  h("label", {}, "Repeat the password", repeat),
  h("button", { class: "primary", type: "submit" }, "Create account"),
  note));
  (invite.email ? firstName : email).focus();
}

const article = (word) => (/^[aeiou]/.test(word) ? "an" : "a");
