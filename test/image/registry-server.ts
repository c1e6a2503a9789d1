import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { tempDir } from './helpers.ts';

/**
 * A real CNCF distribution registry (Debian's `docker-registry`) on a loopback port chosen by the
 * kernel, with its own storage dir and config, optionally behind htpasswd (Basic) or token
 * (Bearer) auth. For Bearer, `startTokenServer` is the token service: it signs JWTs with a key
 * whose certificate the registry trusts.
 */
export interface TestRegistry {
  /** "127.0.0.1:<port>" */
  host: string;
  storageDir: string;
  /** Where a blob's bytes live in the registry's filesystem storage. */
  blobDataPath(digest: string): string;
  close(): Promise<void>;
}

export type RegistryAuthConfig =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'token'; token: TestTokenServer };

export async function startRegistry(auth: RegistryAuthConfig = { kind: 'none' }): Promise<TestRegistry> {
  const tmp = await tempDir('registry');
  const storageDir = path.join(tmp.dir, 'storage');
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    '  addr: 127.0.0.1:0',
    '  secret: hearth-test-secret',
  ];
  if (auth.kind === 'basic') {
    // Cost 4: the registry checks the hash on every request; the tests make hundreds.
    const htpasswd = path.join(tmp.dir, 'htpasswd');
    await writeFile(htpasswd, `${auth.username}:${bcrypt.hashSync(auth.password, 4)}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: hearth-test', `    path: ${htpasswd}`);
  } else if (auth.kind === 'token') {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${auth.token.url}/token`,
      `    service: ${auth.token.service}`,
      `    issuer: ${auth.token.issuer}`,
      `    rootcertbundle: ${auth.token.certPath}`,
    );
  }
  const configPath = path.join(tmp.dir, 'config.yml');
  await writeFile(configPath, `${lines.join('\n')}\n`);

  const child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const host = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`docker-registry did not start:\n${log}`)), 15_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited with ${code}:\n${log}`));
    });
  });
  child.stderr!.resume();
  return {
    host,
    storageDir,
    blobDataPath: (digest) => {
      const hex = digest.slice('sha256:'.length);
      return path.join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    },
    close: async () => {
      await stop(child);
      await tmp.remove();
    },
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

export interface TestTokenServer {
  url: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Every token request: the scopes asked for and whether the credentials were right. */
  requests: { scopes: string[]; authorized: boolean }[];
  close(): Promise<void>;
}

/**
 * The distribution token flow's auth server: `GET /token?service=…&scope=…` with Basic
 * credentials answers `{token, access_token, expires_in, issued_at}`, a JWT (RS256) granting the
 * scopes asked for. The registry finds the signing key by `kid`, libtrust's fingerprint of the
 * public key in the certificate it was given (distribution registry/auth/token).
 */
export async function startTokenServer(creds: { username: string; password: string }): Promise<TestTokenServer> {
  const tmp = await tempDir('token');
  const keyPath = path.join(tmp.dir, 'key.pem');
  const certPath = path.join(tmp.dir, 'cert.pem');
  // node:crypto makes keys but not certificates; openssl makes both in one call.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=hearth-test-token'], {
    stdio: 'ignore',
  });
  const key = createPrivateKey(readFileSync(keyPath));
  const kid = libtrustKeyId(createPublicKey(readFileSync(certPath)));
  const service = 'hearth-test-registry';
  const issuer = 'hearth-test-issuer';
  const requests: TestTokenServer['requests'] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const authorized = basicOk(req, creds);
    requests.push({ scopes, authorized });
    if (!authorized) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'wrong credentials' }));
      return;
    }
    const token = jwt(key, kid, {
      iss: issuer,
      sub: creds.username,
      aud: url.searchParams.get('service') ?? service,
      exp: Math.floor(Date.now() / 1000) + 300,
      nbf: Math.floor(Date.now() / 1000) - 10,
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      access: scopes.map((s) => {
        const [type, ...rest] = s.split(':');
        const actions = rest.pop() ?? '';
        return { type, name: rest.join(':'), actions: actions.split(',').filter(Boolean) };
      }),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    service,
    issuer,
    certPath,
    requests,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await tmp.remove();
    },
  };
}

function basicOk(req: IncomingMessage, creds: { username: string; password: string }): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  return Buffer.from(header.slice(6), 'base64').toString() === `${creds.username}:${creds.password}`;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function jwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid }));
  const body = b64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${head}.${body}`), key);
  return `${head}.${body}.${b64url(signature)}`;
}

/**
 * libtrust's key id: SHA-256 of the DER public key, first 240 bits, base32 without padding, in
 * twelve groups of four joined by ':' (docker/libtrust util.go keyIDEncode).
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const digest = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of digest) bits += byte.toString(2).padStart(8, '0');
  let encoded = '';
  for (let i = 0; i + 5 <= bits.length; i += 5) encoded += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return encoded.match(/.{4}/g)!.join(':');
}
