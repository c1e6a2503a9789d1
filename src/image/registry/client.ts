import { Readable } from 'node:stream';
import { RegistryAuth, causeOf } from './auth.ts';
import type { Credentials } from './auth.ts';
import type { RegistryLocation } from './reference.ts';

/** A registry failure with what the caller needs to say: which registry, what it answered. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export interface RegistryClientOptions {
  location: RegistryLocation;
  credentials?: Credentials;
  /** Per request (a blob upload included); a registry that stops answering fails the deploy. */
  timeoutMs?: number;
}

type Body = () => { body: BodyInit | undefined; length?: number };

interface Call {
  method: string;
  repository: string;
  /** Path after `/v2/<repository>/`, or a full URL (an upload Location). */
  path: string;
  actions: 'pull' | 'pull,push';
  headers?: Record<string, string>;
  /** A factory, so a request can be sent again after the registry challenged it. */
  body?: Body;
  /** Extra scopes the registry will ask for (a cross-repository mount needs pull on the source). */
  extraScopes?: string[];
}

/** The manifest types Hearth reads (OCI first); registries pick the first they hold. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/**
 * The OCI distribution API of one registry, over fetch: blobs (HEAD, monolithic upload,
 * cross-repository mount, GET), manifests (PUT, GET). Answers 401 by learning the registry's
 * auth scheme (Basic or Bearer token) and sending the request once more.
 */
export class RegistryClient {
  readonly location: RegistryLocation;
  readonly #auth: RegistryAuth;
  readonly #timeoutMs: number;

  constructor(opts: RegistryClientOptions) {
    this.location = opts.location;
    this.#auth = new RegistryAuth(opts.credentials);
    this.#timeoutMs = opts.timeoutMs ?? 120_000;
  }

  get base(): string {
    return `${this.location.protocol}//${this.location.host}`;
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.#call({ method: 'HEAD', repository, path: `blobs/${digest}`, actions: 'pull,push' });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.#failure(res, `HEAD blob ${digest} in ${repository}`);
  }

  /**
   * Uploads one blob in a single PUT (the registry checks the digest) unless `mountFrom` holds it,
   * in which case the registry links it without a byte sent. Returns true when it was mounted.
   */
  async pushBlob(
    repository: string,
    blob: { digest: string; size: number; open: () => Readable },
    mountFrom?: string,
  ): Promise<'mounted' | 'uploaded'> {
    const query = mountFrom ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    const start = await this.#call({
      method: 'POST',
      repository,
      path: `blobs/uploads/${query}`,
      actions: 'pull,push',
      ...(mountFrom ? { extraScopes: [`repository:${mountFrom}:pull`] } : {}),
      body: () => ({ body: undefined, length: 0 }),
    });
    if (start.status === 201 && mountFrom) return 'mounted';
    if (start.status !== 202) throw await this.#failure(start, `start of an upload to ${repository}`);
    const location = start.headers.get('location');
    if (!location) throw new RegistryError(`registry ${this.location.host} started an upload without a Location`);
    const url = new URL(location, `${this.base}/`);
    url.searchParams.set('digest', blob.digest);
    const put = await this.#call({
      method: 'PUT',
      repository,
      path: url.href,
      actions: 'pull,push',
      headers: { 'content-type': 'application/octet-stream' },
      body: () => ({ body: Readable.toWeb(blob.open()) as ReadableStream<Uint8Array>, length: blob.size }),
    });
    if (put.status !== 201) throw await this.#failure(put, `upload of blob ${blob.digest} to ${repository}`);
    await put.body?.cancel();
    return 'uploaded';
  }

  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<void> {
    const res = await this.#call({
      method: 'PUT',
      repository,
      path: `manifests/${reference}`,
      actions: 'pull,push',
      headers: { 'content-type': mediaType },
      body: () => ({ body: Buffer.from(bytes) as unknown as BodyInit, length: bytes.byteLength }), // Buffer is a valid fetch body; the DOM lib types disagree
    });
    if (res.status !== 201) throw await this.#failure(res, `PUT manifest ${reference} to ${repository}`);
    await res.body?.cancel();
  }

  /** Whether the repository holds the manifest (by digest or tag), without fetching it. */
  async hasManifest(repository: string, reference: string): Promise<boolean> {
    const res = await this.#call({ method: 'HEAD', repository, path: `manifests/${reference}`, actions: 'pull', headers: { accept: MANIFEST_ACCEPT } });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await this.#failure(res, `HEAD manifest ${reference} in ${repository}`);
  }

  async getManifest(repository: string, reference: string): Promise<{ bytes: Buffer; mediaType: string; digestHeader: string | null }> {
    const res = await this.#call({ method: 'GET', repository, path: `manifests/${reference}`, actions: 'pull', headers: { accept: MANIFEST_ACCEPT } });
    if (res.status !== 200) throw await this.#failure(res, `GET manifest ${reference} from ${repository}`);
    return {
      bytes: Buffer.from(await res.arrayBuffer()),
      mediaType: res.headers.get('content-type') ?? '',
      digestHeader: res.headers.get('docker-content-digest'),
    };
  }

  /** The blob's bytes as a stream. Redirects (to object storage) are followed without our Authorization. */
  async getBlob(repository: string, digest: string): Promise<Readable> {
    let res = await this.#call({ method: 'GET', repository, path: `blobs/${digest}`, actions: 'pull' });
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 5; hops++) {
      const next = res.headers.get('location');
      await res.body?.cancel();
      if (!next) break;
      res = await this.#send(new URL(next, `${this.base}/`).href, { method: 'GET', redirect: 'manual' });
    }
    if (res.status !== 200 || !res.body) throw await this.#failure(res, `GET blob ${digest} from ${repository}`);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }

  async #call(call: Call): Promise<Response> {
    const url = /^https?:\/\//.test(call.path) ? call.path : `${this.base}/v2/${call.repository}/${call.path}`;
    const scope = [`repository:${call.repository}:${call.actions}`, ...(call.extraScopes ?? [])].join(' ');
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.#auth.header(scope).catch((err: Error) => {
        throw new RegistryError(`registry ${this.location.host}: ${err.message}`);
      });
      const headers: Record<string, string> = { ...call.headers };
      if (authorization) headers.authorization = authorization;
      const made = call.body?.();
      if (made?.length !== undefined) headers['content-length'] = String(made.length);
      const init: RequestInit & { duplex?: 'half' } = { method: call.method, headers, redirect: 'manual' };
      if (made?.body !== undefined) {
        init.body = made.body;
        if (made.body instanceof ReadableStream) init.duplex = 'half';
      }
      const res = await this.#send(url, init);
      if (res.status !== 401) return res;
      await res.body?.cancel();
      if (attempt > 0) {
        throw new RegistryError(`registry ${this.location.host} refused the credentials (401 on ${call.method} ${call.repository}, scope ${scope})`, 401);
      }
      let retry: boolean;
      try {
        retry = await this.#auth.challenged(res.headers.get('www-authenticate'), scope, authorization !== undefined);
      } catch (err) {
        throw new RegistryError(`registry ${this.location.host}: ${(err as Error).message}`, 401);
      }
      if (!retry) throw new RegistryError(`registry ${this.location.host} refused the credentials (401 on ${call.method} ${call.repository})`, 401);
    }
  }

  async #send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (err) {
      throw new RegistryError(`registry ${this.location.host} is unreachable: ${causeOf(err)}`);
    }
  }

  async #failure(res: Response, what: string): Promise<RegistryError> {
    let detail = '';
    try {
      const body = (await res.json()) as { errors?: { code?: string; message?: string }[] };
      detail = (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch {
      // not JSON: the status says enough
    }
    return new RegistryError(`registry ${this.location.host}: ${what} failed with ${res.status}${detail ? ` (${detail})` : ''}`, res.status);
  }
}
