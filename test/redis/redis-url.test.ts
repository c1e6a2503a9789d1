import { describe, expect, it } from 'vitest';
import { redisOptions } from '../../src/redis/index.ts';

describe('redis URLs', () => {
  it('understands unix sockets', () => {
    expect(redisOptions('redis+socket:///tmp/x/redis.sock')).toMatchObject({ path: '/tmp/x/redis.sock', maxRetriesPerRequest: null });
  });

  it('understands host, port, password and db', () => {
    expect(redisOptions('redis://:secret@127.0.0.2:6380/3')).toMatchObject({ host: '127.0.0.2', port: 6380, password: 'secret', db: 3 });
    expect(redisOptions('redis://localhost')).toMatchObject({ host: 'localhost', port: 6379 });
  });
});
