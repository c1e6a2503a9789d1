import { describe, expect, it } from 'vitest';
import { HearthClient } from 'hearth';
import { operations } from '../../src/api/index.ts';

interface Sent {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

/**
 * The SDK's requests, captured before they leave (no server): each must be an operation of the
 * OpenAPI document, and together they must cover all of them, so the CLI, the SDK and the
 * document cannot drift apart — including for routes other issues add (versions, logs, schedules…).
 */
function capture(): { client: HearthClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = new HearthClient({
    url: 'http://hearth.test',
    fetch: async (input, init) => {
      const url = new URL(String(input));
      sent.push({
        method: init?.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
      });
      const body = { deadLetters: [], functions: [], versions: [], logs: [], schedules: [], secrets: [], containers: [], id: 'x', status: 'queued' };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    },
  });
  return { client, sent };
}

function matchOperation(s: Sent) {
  return operations.find((op) => op.method.toUpperCase() === s.method
    && new RegExp(`^${op.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(s.path));
}

describe('SDK requests', () => {
  it('cover every documented operation, each with its documented method and path', async () => {
    const { client, sent } = capture();
    await client.health();
    await client.ready();
    await client.deploy({ name: 'f', source: 'export default () => 1', config: { memoryMb: 256 } });
    await client.list();
    await client.get('f');
    await client.remove('f');
    await client.versions('f');
    await client.rollback('f', 2);
    await client.invoke('f', { a: 1 }, { version: 3 });
    await client.invokeAsync('f', { a: 1 }, { callbackUrl: 'http://127.0.0.1:1/cb' });
    await client.invocation('0b6a2f3c-0000-4000-8000-000000000000');
    await client.invocationLogs('0b6a2f3c-0000-4000-8000-000000000000');
    await client.functionLogs('f', { since: '2026-01-01T00:00:00Z', limit: 10 });
    await client.schedules('f');
    await client.getSchedule('f', 'nightly');
    await client.setSchedule('f', 'nightly', { cron: '0 3 * * *', tz: 'UTC', event: { full: true } });
    await client.removeSchedule('f', 'nightly');
    await client.secrets();
    await client.setSecret('db-password', 'hunter2');
    await client.secret('db-password');
    await client.removeSecret('db-password');
    await client.deadLetters('f');
    await client.retry('0b6a2f3c-0000-4000-8000-000000000000');
    await client.gc();
    await client.pool();
    await client.nodes();

    const matched = sent.map((s) => [s, matchOperation(s)] as const);
    for (const [s, op] of matched) expect(op, `${s.method} ${s.path}`).toBeDefined();
    expect(new Set(matched.map(([, op]) => op!.id))).toEqual(new Set(operations.map((op) => op.id)));

    const by = (id: string) => matched.find(([, op]) => op!.id === id)![0];
    expect(by('rollback').body).toEqual({ version: 2 });
    expect(by('invoke')).toMatchObject({ path: '/v1/functions/f/invoke', query: { version: '3' }, body: { a: 1 } });
    expect(by('invokeAsync').query).toEqual({ callbackUrl: 'http://127.0.0.1:1/cb' });
    expect(by('getFunctionLogs').query).toEqual({ since: '2026-01-01T00:00:00Z', limit: '10' });
    expect(by('putSchedule').body).toEqual({ cron: '0 3 * * *', tz: 'UTC', event: { full: true } });
    expect(by('putSecret')).toMatchObject({ method: 'PUT', path: '/v1/secrets/db-password', body: { value: 'hunter2' } });
  });

  it('escapes path segments', async () => {
    const { client, sent } = capture();
    await client.get('a/../b');
    expect(sent[0]!.path).toBe('/v1/functions/a%2F..%2Fb');
  });
});
