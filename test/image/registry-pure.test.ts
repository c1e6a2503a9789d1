import { describe, expect, it } from 'vitest';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { imageReference, isLoopback, parseChallenge, parseImageReference, parseRegistry, repositoryFor } from '../../src/image/index.ts';
import { writerIsGone } from '../../src/image/gc.ts';
import { Pins, StoreGate } from '../../src/image/store/gate.ts';
import { libtrustKeyId } from './registry-server.ts';

describe('HEARTH_REGISTRY', () => {
  it('reads host[:port][/prefix]; plain HTTP only for loopback', () => {
    expect(parseRegistry('127.0.0.1:5000')).toEqual({ host: '127.0.0.1:5000', prefix: '', protocol: 'http:' });
    expect(parseRegistry('localhost:5000/team/fns/')).toEqual({ host: 'localhost:5000', prefix: 'team/fns', protocol: 'http:' });
    expect(parseRegistry('registry.example.com/hearth')).toEqual({ host: 'registry.example.com', prefix: 'hearth', protocol: 'https:' });
    expect(parseRegistry('[::1]:5000').protocol).toBe('http:');
    expect(parseRegistry('https://ghcr.io/acme').host).toBe('ghcr.io');
  });

  it('refuses what is not a registry', () => {
    expect(() => parseRegistry('')).toThrow(/host/);
    expect(() => parseRegistry('host:5000/Upper')).toThrow(/repository path/);
    expect(() => parseRegistry('host:5000/a//b')).toThrow(/repository path/);
    expect(() => parseRegistry('user@host')).toThrow(/host/);
  });

  it('knows loopback hosts', () => {
    for (const h of ['localhost', '127.0.0.1:1', '127.1.2.3', '[::1]:80']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['10.0.0.1', 'example.com', '128.0.0.1', 'localhost.example.com']) expect(isLoopback(h), h).toBe(false);
  });

  it('names repositories and references, and reads them back', () => {
    const loc = parseRegistry('127.0.0.1:5000/team');
    const digest = `sha256:${'a'.repeat(64)}`;
    const ref = imageReference(loc, repositoryFor(loc, 'hello'), digest);
    expect(ref).toBe(`127.0.0.1:5000/team/hello@${digest}`);
    expect(parseImageReference(ref)).toEqual({ host: '127.0.0.1:5000', repository: 'team/hello', digest });
    expect(parseImageReference('nope')).toBeUndefined();
    expect(repositoryFor(parseRegistry('h:1'), 'x')).toBe('x');
  });
});

describe('WWW-Authenticate challenges', () => {
  it('reads Bearer with quoted parameters, escapes and several scopes', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push repository:c:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push repository:c:pull' },
    });
    expect(parseChallenge('Bearer realm="x",error="insufficient_scope"')?.params.error).toBe('insufficient_scope');
    expect(parseChallenge('Bearer realm="a\\"b"')?.params.realm).toBe('a"b');
  });

  it('reads Basic and unquoted values; nothing for no header', () => {
    expect(parseChallenge('Basic realm="hearth"')).toEqual({ scheme: 'basic', params: { realm: 'hearth' } });
    expect(parseChallenge('bearer realm=http://x/token, service=s')).toEqual({ scheme: 'bearer', params: { realm: 'http://x/token', service: 's' } });
    expect(parseChallenge(null)).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
  });
});

describe('the test token server key id', () => {
  it('is libtrust form: 12 groups of 4 base32 characters', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const id = libtrustKeyId(createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })));
    expect(id).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
  });
});

describe('garbage collection helpers', () => {
  it('a temp file is a crash leftover when its writer pid is gone, never when it is ours or alive', () => {
    expect(writerIsGone(`blob-${process.pid}-00ff00ff00ff`, () => false)).toBe(false);
    expect(writerIsGone('blob-12345-00ff00ff00ff', () => false)).toBe(true);
    expect(writerIsGone('layer-12345-00ff00ff00ff', () => true)).toBe(false);
    expect(writerIsGone('something-else', () => false)).toBe(false);
  });

  it('the gate: a collection waits for writers, and writers wait for the collection', async () => {
    const gate = new StoreGate();
    const order: string[] = [];
    let finishWrite!: () => void;
    const writing = gate.shared(async () => {
      order.push('write start');
      await new Promise<void>((r) => (finishWrite = r));
      order.push('write end');
    });
    const collecting = gate.exclusive(async () => {
      order.push('gc');
    });
    const later = gate.shared(async () => {
      order.push('second write');
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['write start']);
    finishWrite();
    await Promise.all([writing, collecting, later]);
    expect(order).toEqual(['write start', 'write end', 'gc', 'second write']);
  });

  it('pins count references and unpin is idempotent', () => {
    const pins = new Pins();
    const a = pins.pin('d');
    const b = pins.pin('d');
    a();
    a();
    expect(pins.digests()).toEqual(['d']);
    b();
    expect(pins.digests()).toEqual([]);
  });
});
