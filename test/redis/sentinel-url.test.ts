import { describe, expect, it } from 'vitest';
import { parseSentinelUrl, redisOptions } from '../../src/redis/index.ts';

describe('redis-sentinel URLs', () => {
  it('lists every sentinel and the master name', () => {
    expect(parseSentinelUrl('redis-sentinel://10.0.0.1:26380,10.0.0.2:26381,sentinel-c/mymaster')).toEqual({
      sentinels: [{ host: '10.0.0.1', port: 26380 }, { host: '10.0.0.2', port: 26381 }, { host: 'sentinel-c', port: 26379 }],
      name: 'mymaster',
    });
  });

  it('takes the servers\' password (and user) from the userinfo, the sentinels\' from the query', () => {
    expect(parseSentinelUrl('redis-sentinel://:p%40ss@127.0.0.1:1,127.0.0.1:2/m')).toMatchObject({ password: 'p@ss', name: 'm' });
    expect(parseSentinelUrl('redis-sentinel://:p%40ss@127.0.0.1:1/m')).not.toHaveProperty('username');
    expect(parseSentinelUrl('redis-sentinel://app:pw@h:1/m?db=2&sentinelPassword=s3')).toMatchObject({
      username: 'app', password: 'pw', db: 2, sentinelPassword: 's3',
    });
  });

  it('understands IPv6 sentinels', () => {
    expect(parseSentinelUrl('redis-sentinel://[::1]:26379,[fe80::2]/m').sentinels).toEqual([
      { host: '::1', port: 26379 }, { host: 'fe80::2', port: 26379 },
    ]);
  });

  it('refuses what it cannot use, without echoing the password', () => {
    expect(() => parseSentinelUrl('redis-sentinel://h:1')).toThrow(/no master name/);
    expect(() => parseSentinelUrl('redis-sentinel://h:1/')).toThrow(/no master name/);
    expect(() => parseSentinelUrl('redis-sentinel:///m')).toThrow(/no sentinel address/);
    expect(() => parseSentinelUrl('redis-sentinel://h:99999/m')).toThrow(/bad port/);
    expect(() => parseSentinelUrl('redis-sentinel://h:1,,h:2/m')).toThrow(/bad sentinel address/);
    expect(() => parseSentinelUrl('redis-sentinel://h:1/m?db=x')).toThrow(/bad db/);
    expect(() => parseSentinelUrl('redis-sentinel://:hunter2@h:x/m')).toThrow(/^(?!.*hunter2)/s);
  });

  it('gives ioredis sentinel options that BullMQ can use', () => {
    const opts = redisOptions('redis-sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/hearth');
    expect(opts).toMatchObject({
      sentinels: [{ host: '127.0.0.1', port: 26379 }, { host: '127.0.0.1', port: 26380 }],
      name: 'hearth', role: 'master', password: 'pw', maxRetriesPerRequest: null,
    });
    expect(opts).not.toHaveProperty('host');
    // The password is the servers'; sentinels without one would refuse an AUTH.
    expect(opts).not.toHaveProperty('sentinelPassword');
  });

  it('retries at least every 500 ms, so a finished failover is noticed quickly', () => {
    const retry = redisOptions('redis-sentinel://h:1/m').retryStrategy!;
    expect(retry(1)).toBe(100);
    expect(retry(50)).toBe(500);
    expect(redisOptions('redis://h:1').retryStrategy!(50)).toBe(2000);
  });

  it('reconnects (to the new master) when a demoted one refuses a write', () => {
    const reconnect = redisOptions('redis-sentinel://h:1/m').reconnectOnError!;
    expect(reconnect(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnect(new Error('ERR wrong number of arguments'))).toBe(false);
  });
});
