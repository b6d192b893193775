// The single-page app: hash routes (the static host serves one index.html), a session, a top bar.

import { ApiError, api, useCsrfToken } from "./api.js";
import { h, show } from "./dom.js";
import { unmountLabelStudio } from "./lsf.js";
import { accountPage } from "./pages/account.js";
import { dataManagerPage } from "./pages/data-manager.js";
import { labelPage } from "./pages/label.js";
import { projectsPage } from "./pages/projects.js";
import { settingsPage } from "./pages/settings.js";
import { signInPage } from "./pages/sign-in.js";
import { signUpPage } from "./pages/sign-up.js";
import { usersPage } from "./pages/users.js";
import { canManageUsers } from "./roles.js";

const ROUTES = [
  [/^#\/projects\/(\d+)\/label$/, labelPage],
  [/^#\/projects\/(\d+)\/settings(?:\/([\w-]+))?$/, settingsPage],
  [/^#\/projects\/(\d+)$/, dataManagerPage],
  [/^#\/projects$/, projectsPage],
  [/^#\/users$/, usersPage],
  [/^#\/account$/, accountPage],
];

let session = null;

function signedIn(newSession) {
  session = newSession;
  useCsrfToken(newSession.csrf_token);
}

// `ended`: the server ended the session already (sign out everywhere), so there is nothing to delete.
async function signOut({ ended = false } = {}) {
  if (!ended) await api("DELETE", "/api/session").catch(() => {});
  session = null;
  useCsrfToken(null);
  location.hash = "#/signin";
}

function drawBar() {
  const bar = document.getElementById("bar");
  if (!session) { bar.replaceChildren(h("strong", { class: "brand" }, "labelstack")); return; }
  bar.replaceChildren(
    h("a", { class: "brand", href: "#/projects" }, "labelstack"),
    h("nav", {}, h("a", { href: "#/projects" }, "Projects"),
      canManageUsers(session.user) ? h("a", { href: "#/users" }, "Users") : null),
    h("a", { class: "who", href: "#/account", title: "Your account" }, `${session.user.email} (${session.user.role})`),
    h("button", { type: "button", onclick: () => signOut() }, "Sign out"),
  );
}

async function route() {
  unmountLabelStudio();
  const [path, search = ""] = location.hash.split("?");
  let notice = "";
  if (!session) {
    // Answers {user: null} without a session (and why, for a session that ended): no failed request.
    const probe = await api("GET", "/api/session").catch((error) => ({ user: null, detail: error.message }));
    if (probe.user) signedIn(probe); else notice = probe.detail || "";
  }
  drawBar();
  const params = new URLSearchParams(search);
  if (!session && path === "#/signup") {  // an invitation link: the one page for someone without an account
    signUpPage(params.get("token") || "", (newSession) => { signedIn(newSession); location.hash = "#/projects"; });
    return;
  }
  if (!session || path === "#/signin") {
    if (session) { location.hash = "#/projects"; return; }
    signInPage((newSession) => {
      signedIn(newSession);
      if (location.hash === "#/projects") route(); else location.hash = "#/projects";
    }, notice);
    return;
  }
  for (const [pattern, page] of ROUTES) {
    const match = path.match(pattern);
    if (match) {
      try {
        await page({ user: session.user, params, args: match.slice(1), signOut });
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) { session = null; location.hash = "#/signin"; return; }
        show(h("h1", {}, error instanceof ApiError && error.status === 404 ? "Not found" : "Something went wrong"),
          h("p", { class: "status error" }, error.message), h("a", { href: "#/projects" }, "Back to projects"));
      }
      return;
    }
  }
  location.hash = "#/projects";
}

window.addEventListener("hashchange", route);
// The LSF bundle is a deferred classic script; module scripts run after it, so LabelStudio is defined.
route();
