// The console's only way to the server: the public /v1 API, with the admin key the user typed.
// The key lives in sessionStorage (this tab only, gone when it closes), never in a cookie or URL.

const KEY = "orgcerts.adminKey";

export function storedKey() {
  return sessionStorage.getItem(KEY);
}

export function remember(key) {
  sessionStorage.setItem(KEY, key);
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

/** An error answer of the API, with its envelope's fields. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.param = error.param ?? null;
    this.code = error.code ?? null;
  }
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) {
      for (const item of value) params.append(`${name}[]`, item);
    } else {
      params.set(name, String(value));
    }
  }
  const search = params.toString();
  return `/v1${path}${search ? `?${search}` : ""}`;
}

/** Calls the API with `key` (default: the stored one); resolves to the JSON body of a 2xx. */
export async function call(method, path, { query, body, key } = {}) {
  const headers = { Authorization: `Bearer ${key ?? storedKey() ?? ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError(0, { message: "The server could not be reached." });
  }
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (json && json.error) || {});
  }
  return json;
}

/** One page of a list: `{data, has_more, first_id, last_id}`. */
export function page(path, query) {
  return call("GET", path, { query });
}
