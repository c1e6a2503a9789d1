/**
 * Lambda-style HTTP: the request as an API Gateway HTTP API (payload 2.0) event, the way Lambda
 * function URLs deliver it, and a handler's result turned back into a response. Pure and
 * dependency-free (the agent bundle inlines it).
 */

export interface ApiGatewayV2Event {
  version: '2.0';
  routeKey: '$default';
  rawPath: string;
  rawQueryString: string;
  /** Absent when the request carries no cookies (as Lambda does). */
  cookies?: string[];
  /** Lower-case names; repeated headers joined with ","; the Cookie header moves to `cookies`. */
  headers: Record<string, string>;
  /** Absent without a query; repeated parameters joined with ",". */
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: '$default';
    stage: '$default';
    time: string;
    timeEpoch: number;
  };
  /** Absent for an empty body; base64 when `isBase64Encoded`. */
  body?: string;
  isBase64Encoded: boolean;
}

export interface LambdaHttpRequest {
  method: string;
  /** Absolute URL as the function sees it (path after `/fn/<name>`). */
  url: string;
  headers: [string, string][];
  body: Uint8Array | undefined;
  requestId: string;
  /** Epoch ms the request arrived. */
  now: number;
}

/** The response a proxy result stands for; the agent streams it like a fetch handler's. */
export interface HttpResult {
  status: number;
  headers: [string, string][];
  body: Uint8Array | undefined;
}

/** Bodies Lambda passes as text; everything else arrives base64-encoded. */
export function isTextContentType(contentType: string): boolean {
  const t = contentType.toLowerCase();
  return /^text\//.test(t) || /json|xml|javascript|x-www-form-urlencoded|graphql|yaml/.test(t);
}

function joinHeaders(pairs: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) {
    const name = k.toLowerCase();
    out[name] = out[name] === undefined ? v : `${out[name]},${v}`;
  }
  return out;
}

/** The client's address: the last x-forwarded-for entry, the one the gateway itself appended. */
export function sourceIpOf(headers: Record<string, string>): string {
  const forwarded = headers['x-forwarded-for'];
  if (!forwarded) return '';
  const parts = forwarded.split(',').map((s) => s.trim()).filter(Boolean);
  return parts[parts.length - 1] ?? '';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's request time format: "12/Mar/2020:19:03:58 +0000". */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function apiGatewayEvent(req: LambdaHttpRequest): ApiGatewayV2Event {
  const u = new URL(req.url);
  const headers = joinHeaders(req.headers);
  const cookieHeader = headers.cookie;
  delete headers.cookie;
  const cookies = cookieHeader
    ? cookieHeader
        .split(/;\s*|,/)
        .map((c) => c.trim())
        .filter(Boolean)
    : undefined;
  const query: Record<string, string> = {};
  for (const [k, v] of u.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const host = headers.host ?? u.host;
  const event: ApiGatewayV2Event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(u.search.length > 1 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: host.split('.')[0] ?? host,
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: { method: req.method, path: u.pathname, protocol: 'HTTP/1.1', sourceIp: sourceIpOf(headers), userAgent: headers['user-agent'] ?? '' },
      requestId: req.requestId,
      routeKey: '$default',
      stage: '$default',
      time: requestTime(req.now),
      timeEpoch: req.now,
    },
    isBase64Encoded: false,
  };
  if (req.body && req.body.length > 0) {
    const text = isTextContentType(headers['content-type'] ?? '');
    event.body = text ? new TextDecoder().decode(req.body) : Buffer.from(req.body).toString('base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const encoder = new TextEncoder();

/**
 * A handler's return value as an HTTP response, as function URLs read it: an object with a numeric
 * `statusCode` is a proxy result (headers, multiValueHeaders, cookies, body, isBase64Encoded);
 * anything else is the body of a 200 application/json response (a string as is, the rest as JSON).
 */
export function proxyResultToHttp(value: unknown): HttpResult {
  if (!isRecord(value) || typeof value.statusCode !== 'number') {
    const body = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    return { status: 200, headers: [['content-type', 'application/json']], body: encoder.encode(body) };
  }
  const status = value.statusCode;
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`statusCode ${status} is not a valid HTTP status`);
  const headers: [string, string][] = [];
  if (isRecord(value.headers)) {
    for (const [k, v] of Object.entries(value.headers)) if (v !== undefined && v !== null) headers.push([k.toLowerCase(), String(v)]);
  }
  if (isRecord(value.multiValueHeaders)) {
    for (const [k, vs] of Object.entries(value.multiValueHeaders)) {
      if (Array.isArray(vs)) for (const v of vs) if (v !== undefined && v !== null) headers.push([k.toLowerCase(), String(v)]);
    }
  }
  if (Array.isArray(value.cookies)) for (const c of value.cookies) if (typeof c === 'string') headers.push(['set-cookie', c]);
  let body: Uint8Array | undefined;
  if (value.body !== undefined && value.body !== null) {
    const raw = typeof value.body === 'string' ? value.body : JSON.stringify(value.body);
    body = value.isBase64Encoded === true ? new Uint8Array(Buffer.from(raw, 'base64')) : encoder.encode(raw);
  }
  return { status, headers, body };
}

/**
 * An OpenWhisk web action's result: `statusCode`, `headers` or `body` make it a response (200 by
 * default); anything else is JSON.
 */
export function openWhiskResultToHttp(value: unknown): HttpResult {
  if (isRecord(value) && ('statusCode' in value || 'headers' in value || 'body' in value)) {
    return proxyResultToHttp({ ...value, statusCode: typeof value.statusCode === 'number' ? value.statusCode : 200 });
  }
  return proxyResultToHttp(typeof value === 'string' ? JSON.stringify(value) : value);
}

/**
 * OpenWhisk web-action parameters: query and a JSON (or form) body merged into the params, plus
 * the `__ow_*` fields describing the request.
 */
export function openWhiskParams(method: string, url: string, pairs: [string, string][], body: Uint8Array | undefined): Record<string, unknown> {
  const u = new URL(url);
  const headers = joinHeaders(pairs);
  const params: Record<string, unknown> = Object.fromEntries(u.searchParams);
  let rawBody = '';
  if (body && body.length > 0) {
    const contentType = headers['content-type'] ?? '';
    const text = isTextContentType(contentType);
    rawBody = text ? new TextDecoder().decode(body) : Buffer.from(body).toString('base64');
    if (contentType.includes('json')) {
      try {
        const parsed: unknown = JSON.parse(rawBody);
        if (isRecord(parsed)) Object.assign(params, parsed);
      } catch {
        // Not JSON after all: the action still has __ow_body.
      }
    } else if (contentType.includes('x-www-form-urlencoded')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(rawBody)));
    }
  }
  // Object.assign, not a leading spread: on Node 20 each property added after one costs ~1 µs.
  return Object.assign(params, {
    __ow_method: method.toLowerCase(),
    __ow_headers: headers,
    __ow_path: u.pathname,
    __ow_query: u.search.slice(1),
    __ow_body: rawBody,
  });
}
