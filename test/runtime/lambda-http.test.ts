import { describe, expect, it } from 'vitest';
import { apiGatewayEvent, openWhiskParams, openWhiskResultToHttp, proxyResultToHttp, requestTime, sourceIpOf } from '../../src/runtime/agent/lambda-http.ts';

const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);
const req = (over: Partial<Parameters<typeof apiGatewayEvent>[0]> = {}) =>
  apiGatewayEvent({ method: 'GET', url: 'http://localhost:8080/', headers: [], body: undefined, requestId: 'r-1', now: Date.UTC(2020, 2, 12, 19, 3, 58), ...over });

describe('apiGatewayEvent (API Gateway HTTP API payload 2.0)', () => {
  it('carries path, raw and parsed query, cookies, joined lower-case headers and the client address', () => {
    const e = req({
      method: 'POST',
      url: 'http://api.example/items/7?a=1&a=2&b=x%20y',
      headers: [['Host', 'api.example'], ['X-A', '1'], ['x-a', '2'], ['Cookie', 's=1; t=2'], ['x-forwarded-for', '6.6.6.6, 10.0.0.9'], ['user-agent', 'curl/8']],
    });
    expect(e).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/items/7',
      rawQueryString: 'a=1&a=2&b=x%20y',
      queryStringParameters: { a: '1,2', b: 'x y' },
      cookies: ['s=1', 't=2'],
      headers: { host: 'api.example', 'x-a': '1,2', 'x-forwarded-for': '6.6.6.6, 10.0.0.9', 'user-agent': 'curl/8' },
      isBase64Encoded: false,
      requestContext: {
        domainName: 'api.example',
        http: { method: 'POST', path: '/items/7', protocol: 'HTTP/1.1', sourceIp: '10.0.0.9', userAgent: 'curl/8' },
        requestId: 'r-1',
        time: '12/Mar/2020:19:03:58 +0000',
        timeEpoch: Date.UTC(2020, 2, 12, 19, 3, 58),
      },
    });
    expect(e.headers.cookie).toBeUndefined();
    expect(e.body).toBeUndefined();
  });

  it('leaves out queryStringParameters and cookies when there are none', () => {
    const e = req();
    expect('queryStringParameters' in e).toBe(false);
    expect('cookies' in e).toBe(false);
    expect(e.rawQueryString).toBe('');
  });

  it('passes text bodies as text and binary bodies base64-encoded', () => {
    const json = req({ method: 'POST', headers: [['content-type', 'application/json']], body: Buffer.from('{"k":1}') });
    expect(json).toMatchObject({ body: '{"k":1}', isBase64Encoded: false });
    const bin = req({ method: 'POST', headers: [['content-type', 'application/octet-stream']], body: Uint8Array.of(0, 255, 1) });
    expect(bin).toMatchObject({ body: 'AP8B', isBase64Encoded: true });
    const none = req({ method: 'POST', body: Buffer.from('raw') });
    expect(none.isBase64Encoded).toBe(true);
  });

  it('takes the last x-forwarded-for entry (the one the gateway appended) as the source address', () => {
    expect(sourceIpOf({ 'x-forwarded-for': 'spoofed, 127.0.0.1' })).toBe('127.0.0.1');
    expect(sourceIpOf({})).toBe('');
    expect(requestTime(Date.UTC(2021, 0, 5, 1, 2, 3))).toBe('05/Jan/2021:01:02:03 +0000');
  });
});

describe('proxyResultToHttp (function URL response rules)', () => {
  it('turns a proxy result into status, headers, multi-value headers, cookies and body', () => {
    const r = proxyResultToHttp({
      statusCode: 201,
      headers: { 'Content-Type': 'text/html', 'X-N': 3 },
      multiValueHeaders: { 'x-m': ['a', 'b'] },
      cookies: ['a=1; Path=/', 'b=2'],
      body: '<p>hi</p>',
    });
    expect(r.status).toBe(201);
    expect(r.headers).toEqual([
      ['content-type', 'text/html'],
      ['x-n', '3'],
      ['x-m', 'a'],
      ['x-m', 'b'],
      ['set-cookie', 'a=1; Path=/'],
      ['set-cookie', 'b=2'],
    ]);
    expect(text(r.body)).toBe('<p>hi</p>');
  });

  it('decodes a base64 body and allows no body at all', () => {
    expect([...(proxyResultToHttp({ statusCode: 200, body: 'AP8B', isBase64Encoded: true }).body ?? [])]).toEqual([0, 255, 1]);
    expect(proxyResultToHttp({ statusCode: 204 }).body).toBeUndefined();
  });

  it('answers anything else as 200 application/json (a string as is)', () => {
    for (const [value, body] of [
      [{ ok: true }, '{"ok":true}'],
      [[1, 2], '[1,2]'],
      [null, 'null'],
      [undefined, 'null'],
      [42, '42'],
      ['hello', 'hello'],
      [{ body: 'x' }, '{"body":"x"}'],
    ] as const) {
      const r = proxyResultToHttp(value);
      expect(r.status).toBe(200);
      expect(r.headers).toEqual([['content-type', 'application/json']]);
      expect(text(r.body)).toBe(body);
    }
  });

  it('refuses a status code HTTP cannot carry', () => {
    expect(() => proxyResultToHttp({ statusCode: 99 })).toThrow(/statusCode/);
    expect(() => proxyResultToHttp({ statusCode: 200.5 })).toThrow(/statusCode/);
  });
});

describe('OpenWhisk web actions', () => {
  it('merges query and JSON body into params and describes the request in __ow_ fields', () => {
    const p = openWhiskParams('POST', 'http://x/a/b?q=1', [['Content-Type', 'application/json']], Buffer.from('{"name":"ada"}'));
    expect(p).toEqual({
      q: '1',
      name: 'ada',
      __ow_method: 'post',
      __ow_headers: { 'content-type': 'application/json' },
      __ow_path: '/a/b',
      __ow_query: 'q=1',
      __ow_body: '{"name":"ada"}',
    });
    expect(openWhiskParams('POST', 'http://x/', [['content-type', 'application/x-www-form-urlencoded']], Buffer.from('a=1&b=2'))).toMatchObject({ a: '1', b: '2' });
  });

  it('a result with body/headers/statusCode is the response (200 by default); anything else is JSON', () => {
    const r = openWhiskResultToHttp({ body: '<b>hi</b>', headers: { 'content-type': 'text/html' } });
    expect(r.status).toBe(200);
    expect(text(r.body)).toBe('<b>hi</b>');
    expect(text(openWhiskResultToHttp({ greeting: 'hi' }).body)).toBe('{"greeting":"hi"}');
    expect(text(openWhiskResultToHttp('hi').body)).toBe('"hi"');
  });
});
