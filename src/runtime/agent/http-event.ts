/**
 * What a plain (event) handler behind the HTTP trigger receives: the request as JSON. Pure and
 * dependency-free (the agent bundle inlines it).
 */
export interface HttpEvent {
  method: string;
  /** The path after `/fn/<name>`, starting with '/'. */
  path: string;
  query: Record<string, string>;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** JSON bodies parsed, other bodies as text, null when empty. */
  body: unknown;
}

export function httpEvent(method: string, url: string, headers: [string, string][], body: Uint8Array | undefined): HttpEvent {
  const u = new URL(url);
  const hs: Record<string, string> = {};
  for (const [k, v] of headers) {
    const name = k.toLowerCase();
    hs[name] = hs[name] === undefined ? v : `${hs[name]}, ${v}`;
  }
  let parsed: unknown = null;
  if (body && body.length > 0) {
    const text = new TextDecoder().decode(body);
    parsed = text;
    if ((hs['content-type'] ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        // Not JSON after all: the handler gets the text.
      }
    }
  }
  return { method, path: u.pathname, query: Object.fromEntries(u.searchParams), headers: hs, body: parsed };
}
