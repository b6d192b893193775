// HTML that users write (a project's instructions), shown as HTML: the one place the UI parses markup,
// and only through DOMPurify. Scripts, event handlers and javascript: URLs are removed; so are elements
// that could pass for the UI itself (forms, buttons, dialogs) or restyle it (<style>), and ids, which
// could shadow the page's own.

import DOMPurify from "../vendor/dompurify/purify.es.mjs";

const OPTIONS = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "select", "textarea", "dialog"],
  FORBID_ATTR: ["id", "name"],
  RETURN_DOM_FRAGMENT: true,
};

// Links open in a new tab: following one must not leave the labeling stream.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

/** A DocumentFragment of `html`, sanitized: append it, never assign markup to innerHTML. */
export function sanitizedHtml(html) {
  return DOMPurify.sanitize(String(html ?? ""), OPTIONS);
}
