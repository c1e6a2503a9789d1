/** A `WWW-Authenticate` challenge: the scheme and its parameters (realm, service, scope, …). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses `Bearer realm="https://auth",service="registry",scope="repository:a:pull,push"` or
 * `Basic realm="x"`. Only the first challenge is read: registries send one.
 */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/gy;
  const rest = match[2]!;
  let m: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (m = re.exec(rest)) !== null) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export interface Credentials {
  username: string;
  password: string;
}

export function basicHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Tokens are refreshed this long before the server says they expire. */
const EXPIRY_MARGIN_MS = 10_000;

/**
 * Authorization for one registry, learnt from its challenges (the distribution token flow):
 * Basic sends the credentials on every request once the registry asked for them; Bearer asks
 * the challenge's realm for a token per scope (with the credentials as Basic, if any) and
 * caches it until shortly before it expires.
 */
export class RegistryAuth {
  #basic = false;
  #bearer: Challenge | undefined;
  readonly #tokens = new Map<string, CachedToken>();

  constructor(private readonly creds: Credentials | undefined) {}

  /** The Authorization header for a request needing `scope`, if the registry wants one. */
  async header(scope: string): Promise<string | undefined> {
    if (this.#basic && this.creds) return basicHeader(this.creds);
    if (!this.#bearer) return undefined;
    const cached = this.#tokens.get(scope);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    return `Bearer ${await this.#fetchToken(this.#bearer, scope)}`;
  }

  /**
   * Learns from a 401. Returns true when a retry may now succeed (a new scheme or token), false
   * when the registry refused credentials it already had (retrying would only fail again).
   */
  async challenged(header: string | null, scope: string, hadAuth: boolean): Promise<boolean> {
    const challenge = parseChallenge(header);
    if (!challenge) throw new Error('the registry answered 401 without a WWW-Authenticate challenge');
    if (challenge.scheme === 'basic') {
      if (!this.creds) throw new Error('the registry wants a user name and password (set HEARTH_REGISTRY_USER and HEARTH_REGISTRY_PASSWORD)');
      if (this.#basic && hadAuth) return false;
      this.#basic = true;
      return true;
    }
    if (challenge.scheme === 'bearer') {
      if (!challenge.params.realm) throw new Error('the registry sent a Bearer challenge without a realm');
      const wasBearer = this.#bearer !== undefined && hadAuth;
      this.#bearer = challenge;
      const wanted = challenge.params.scope ?? scope;
      if (wasBearer && this.#tokens.has(wanted) && !challenge.params.error) return false;
      this.#tokens.delete(wanted);
      await this.#fetchToken(challenge, wanted);
      if (wanted !== scope) this.#tokens.set(scope, this.#tokens.get(wanted)!);
      return true;
    }
    throw new Error(`the registry wants ${challenge.scheme} authentication, which Hearth does not speak`);
  }

  async #fetchToken(challenge: Challenge, scope: string): Promise<string> {
    const url = new URL(challenge.params.realm!);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    // Several scopes arrive space-separated in one challenge; token servers take one parameter each.
    for (const s of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.creds) headers.authorization = basicHeader(this.creds);
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new Error(`the token server ${url.origin} is unreachable: ${causeOf(err)}`);
    }
    if (!res.ok) {
      throw new Error(`the token server ${url.origin} refused (${res.status}${res.status === 401 ? ': wrong user name or password' : ''})`);
    }
    const body = (await res.json()) as { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`the token server ${url.origin} answered without a token`);
    // The spec's default lifetime is 60 s when expires_in is missing.
    const issued = body.issued_at ? Date.parse(body.issued_at) : Date.now();
    const expiresAt = (Number.isFinite(issued) ? issued : Date.now()) + (body.expires_in ?? 60) * 1000 - EXPIRY_MARGIN_MS;
    this.#tokens.set(scope, { token, expiresAt });
    return token;
  }
}

/** The useful part of a fetch failure: undici hides the socket error in `cause`. */
export function causeOf(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
