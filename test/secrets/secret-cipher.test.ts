import { describe, expect, it } from 'vitest';
import { SecretCipher } from '../../src/secrets/index.ts';

describe('SecretCipher', () => {
  it('round-trips and uses a fresh IV per value', () => {
    const c = new SecretCipher('k');
    const a = c.encrypt('hello', 'n');
    expect(a).not.toBe(c.encrypt('hello', 'n'));
    expect(c.decrypt(a, 'n')).toBe('hello');
  });

  it('refuses another key, another name, or a changed ciphertext', () => {
    const sealed = new SecretCipher('k').encrypt('hello', 'n');
    expect(() => new SecretCipher('other').decrypt(sealed, 'n')).toThrow();
    expect(() => new SecretCipher('k').decrypt(sealed, 'm')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('jello').toString('base64url');
    expect(() => new SecretCipher('k').decrypt(parts.join('.'), 'n')).toThrow();
  });
});
