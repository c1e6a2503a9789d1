import { describe, expect, it } from 'vitest';
import { parseFunctionConfig } from '../../src/config/index.ts';
import { buildSpec, containerResolvConf, renderResolvConf, withResolvConf } from '../../src/runtime/spec/index.ts';

describe('resolv.conf for networked containers', () => {
  const host = ['# from DHCP', 'nameserver 127.0.0.53', 'nameserver 10.0.0.2 # office', 'nameserver ::1', 'nameserver fd00::53', 'search corp.example', 'options edns0 trust-ad', ''].join('\n');

  it('keeps the host\'s reachable nameservers, search and options, and drops loopback stubs', () => {
    expect(containerResolvConf(host)).toEqual({ nameservers: ['10.0.0.2', 'fd00::53'], extra: ['search corp.example', 'options edns0 trust-ad'] });
    expect(renderResolvConf(undefined, host)).toBe(
      '# written by hearth for this container\nnameserver 10.0.0.2\nnameserver fd00::53\nsearch corp.example\noptions edns0 trust-ad\n',
    );
  });

  it('configured servers replace the host\'s (and its search domains); at most three', () => {
    expect(renderResolvConf(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'], host)).toBe(
      '# written by hearth for this container\nnameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n',
    );
    expect(() => renderResolvConf(['dns.example'], host)).toThrow(/not an IP address/);
  });

  it('without any server it writes no nameserver line', () => {
    expect(renderResolvConf(undefined, 'nameserver 127.0.0.53\n')).toBe('# written by hearth for this container\n');
    expect(renderResolvConf(undefined, undefined)).toBe('# written by hearth for this container\n');
  });

  it('is mounted read-only over /etc/resolv.conf', () => {
    const spec = buildSpec([withResolvConf('/var/lib/hearth/containers/c1/resolv.conf')]);
    expect(spec.mounts.find((m) => m.destination === '/etc/resolv.conf')).toEqual({
      destination: '/etc/resolv.conf',
      type: 'bind',
      source: '/var/lib/hearth/containers/c1/resolv.conf',
      options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'],
    });
    expect(() => withResolvConf('relative')).toThrow();
  });

  it('hearth.json takes `dns` as one to three IP addresses', () => {
    expect(parseFunctionConfig({ network: 'bridge', dns: ['198.18.0.2', '2001:db8::1'] }).dns).toEqual(['198.18.0.2', '2001:db8::1']);
    expect(parseFunctionConfig({}).dns).toBeUndefined();
    expect(() => parseFunctionConfig({ dns: ['resolver.example'] })).toThrow();
    expect(() => parseFunctionConfig({ dns: [] })).toThrow();
    expect(() => parseFunctionConfig({ dns: ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4'] })).toThrow();
  });
});
