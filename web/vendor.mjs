// Copies the Label Studio Frontend bundle and DOMPurify out of node_modules into vendor/, the only
// third-party files the site serves (so a deployment uploads three files, not node_modules). Runs after
// `npm ci`.
import { copyFileSync, mkdirSync } from "node:fs";

const from = "node_modules/@heartexlabs/label-studio/build/static";
mkdirSync("vendor/label-studio", { recursive: true });
for (const file of ["js/main.js", "css/main.css"]) {
  copyFileSync(`${from}/${file}`, `vendor/label-studio/${file.split("/")[1]}`);
}

// DOMPurify (an ES module): sanitizes HTML that users write, such as a project's instructions.
mkdirSync("vendor/dompurify", { recursive: true });
copyFileSync("node_modules/dompurify/dist/purify.es.mjs", "vendor/dompurify/purify.es.mjs");
