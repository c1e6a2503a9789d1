/**
 * Functions written for AWS Lambda (and OpenWhisk) run unchanged: the fixtures in test/fixtures
 * are deployed with the real CLI and invoked sync, async and over the HTTP trigger.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hearthCli } from '../cli/run.ts';
import { startHearth, type TestHearth } from '../helpers/hearth.ts';
import { waitFor } from '../helpers/host.ts';

const FIXTURES = path.resolve('test/fixtures');
let h: TestHearth;

async function deployFixture(dir: string): Promise<void> {
  const res = await hearthCli(['deploy', path.join(FIXTURES, dir)], { env: { HEARTH_URL: h.url } });
  expect(res.code, res.stderr).toBe(0);
}

async function finished(id: string): Promise<any> {
  let record: any;
  await waitFor(async () => {
    record = (await h.api('GET', `/v1/invocations/${id}`)).body;
    return record?.status === 'succeeded' || record?.status === 'failed';
  }, 30_000);
  return record;
}

beforeAll(async () => {
  h = await startHearth();
  for (const dir of ['lambda-cjs', 'lambda-legacy', 'lambda-http', 'openwhisk-action']) await deployFixture(dir);
});

afterAll(async () => {
  await h?.close();
});

describe('a CommonJS callback-style Lambda function', () => {
  it('answers through its callback, with the Lambda context, CommonJS globals, /tmp, /proc and its npm dependency', async () => {
    const res = await h.invoke('lambda-cjs', { name: 'Ada' });
    expect(res.status, res.text).toBe(200);
    const id = res.headers.get('x-hearth-invocation-id');
    expect(res.body).toMatchObject({
      message: 'Hello, Ada!',
      visits: 1,
      dirname: '/function',
      filename: '/function/index.cjs',
      taskRoot: '/function',
      lambdaName: 'lambda-cjs',
      context: {
        awsRequestId: id,
        functionName: 'lambda-cjs',
        functionVersion: '1',
        memoryLimitInMB: '192',
        invokedFunctionArn: 'arn:hearth:lambda:local:000000000000:function:lambda-cjs',
      },
    });
    expect(res.body.rssKb).toBeGreaterThan(1000);
    expect(res.body.context.remaining).toBeGreaterThan(5000);
    expect(res.body.context.remaining).toBeLessThanOrEqual(10_000);
    expect(res.body.timeout).toMatch(/^\d+s$/);
    // /tmp lives as long as the warm container, as on Lambda.
    const again = await h.invoke('lambda-cjs', {});
    expect(again.body).toMatchObject({ message: 'Hello, world!', visits: 2 });
  });

  it('an error passed to the callback is a function_error with its message', async () => {
    const res = await h.invoke('lambda-cjs', { fail: 'on purpose' });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'function_error', message: 'asked to fail: on purpose' } });
  });

  it('runs asynchronously too', async () => {
    const res = await h.api('POST', '/v1/functions/lambda-cjs/invocations', { name: 'async' });
    expect(res.status, res.text).toBe(202);
    const record = await finished(res.body.id);
    expect(record.status).toBe('succeeded');
    expect(record.result).toMatchObject({ message: 'Hello, async!' });
  });

  it('reads templates beside its code through __dirname, invoked and over the HTTP trigger', async () => {
    const res = await h.invoke('lambda-cjs', { page: 'Ada' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<p>Ada</p>\n' });
    const web = await fetch(`${h.url}/fn/lambda-cjs/?page=Grace`);
    expect(web.status).toBe(200);
    expect(web.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await web.text()).toBe('<p>Grace</p>\n');
  });
});

describe('legacy context.succeed / fail / done', () => {
  it('each reports the outcome; reporting nothing ends with null once the started work is done', async () => {
    const ok = await h.invoke('lambda-legacy', { mode: 'succeed' });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toEqual({ legacy: true, requestId: ok.headers.get('x-hearth-invocation-id') });
    const failed = await h.invoke('lambda-legacy', { mode: 'fail' });
    expect(failed.status).toBe(500);
    expect(failed.body.error).toEqual({ code: 'function_error', message: 'legacy failure' });
    expect((await h.invoke('lambda-legacy', { mode: 'done' })).body).toBe('done');
    const started = Date.now();
    const silent = await h.invoke('lambda-legacy', { mode: 'silent' });
    expect(silent.status, silent.text).toBe(200);
    expect(silent.body).toBeNull();
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('Lambda-style HTTP on the HTTP trigger', () => {
  it('gives the handler an API Gateway 2.0 event and turns its proxy result into the response', async () => {
    const res = await fetch(`${h.url}/fn/lambda-http/items/7?a=1&a=2&b=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'c1=v1; c2=v2', 'x-forwarded-for': '203.0.113.9' },
      body: JSON.stringify({ k: 'v' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-handler')).toBe('lambda');
    expect(res.headers.get('x-multi')).toBe('a, b');
    expect(res.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly', 'theme=dark']);
    const { event } = await res.json();
    expect(event).toMatchObject({
      version: '2.0',
      rawPath: '/items/7',
      rawQueryString: 'a=1&a=2&b=x',
      queryStringParameters: { a: '1,2', b: 'x' },
      cookies: ['c1=v1', 'c2=v2'],
      body: '{"k":"v"}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/items/7', sourceIp: '127.0.0.1' } },
    });
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
  });

  it('any other result is JSON with 200; base64 bodies come back as bytes', async () => {
    const plain = await fetch(`${h.url}/fn/lambda-http/plain`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(await plain.json()).toEqual({ plain: true, method: 'GET' });
    expect(await (await fetch(`${h.url}/fn/lambda-http/text`)).text()).toBe('just text');
    const bin = await fetch(`${h.url}/fn/lambda-http/binary`);
    expect([...new Uint8Array(await bin.arrayBuffer())]).toEqual([0, 1, 254, 255]);
  });

  it('a callback-style handler works over HTTP too', async () => {
    const res = await fetch(`${h.url}/fn/lambda-cjs/`);
    expect(res.status).toBe(200);
    expect((await res.json()).message).toBe('Hello, world!');
  });
});

describe('OpenWhisk actions', () => {
  it('main(params) runs invoked and as a web action', async () => {
    expect((await h.invoke('openwhisk-action', { name: 'Grace' })).body).toEqual({ greeting: 'Hello Grace' });
    const web = await fetch(`${h.url}/fn/openwhisk-action/?name=Linus`);
    expect(web.headers.get('content-type')).toBe('text/plain');
    expect(await web.text()).toBe('hello Linus via get');
  });
});
