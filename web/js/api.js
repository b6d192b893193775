// The JSON API, called with the session cookie. Unsafe methods carry the CSRF token the session gave us
// (functions/api/sessions.py explains the scheme).

let csrfToken = null;

export function useCsrfToken(token) {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(status, body) {
    const fields = Object.entries(body?.validation_errors || {})
      .map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`);
    super(fields.length ? fields.join("; ") : body?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function headersFor(method, json) {
  const headers = { Accept: "application/json" };
  if (json) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  return headers;
}

export async function api(method, path, body) {
  const json = body !== undefined && !(body instanceof FormData);
  const response = await fetch(path, {
    method, headers: headersFor(method, json), credentials: "same-origin",
    body: json ? JSON.stringify(body) : body,
  });
  const data = parse(await response.text());
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function parse(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 200) };  // a proxy's or server's non-JSON error page
  }
}

/** POST a FormData with upload progress (fetch has none): onProgress(fraction) while sending. */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(headersFor("POST", false))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onload = () => {
      const data = parse(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, { detail: "Network error during upload." }));
    xhr.send(form);
  });
}

export const query = (params) => new URLSearchParams(
  Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""),
).toString();
