/**
 * What `hearth init NAME --template T` writes: a function folder that deploys as is. Pure (files
 * as a path → text map), so the templates are tested without touching the disk.
 */
export const TEMPLATES = ['handler', 'lambda', 'fetch', 'hono', 'cron'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Types without installing anything: `hearth` is a dev dependency only editors and tsc use. */
const tsconfig = json({
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
  include: ['*.ts'],
});

function packageJson(name: string, extra: { type?: 'module'; dependencies?: Record<string, string> } = {}): string {
  return json({
    name,
    version: '0.1.0',
    private: true,
    ...(extra.type ? { type: extra.type } : {}),
    ...(extra.dependencies ? { dependencies: extra.dependencies } : {}),
    devDependencies: { hearth: '*', '@types/node': '^20' },
  });
}

export function templateFiles(name: string, template: TemplateName): Record<string, string> {
  switch (template) {
    case 'handler':
      return {
        'hearth.json': json({ name }),
        'package.json': packageJson(name, { type: 'module' }),
        'tsconfig.json': tsconfig,
        'index.ts': [
          "import type { Handler } from 'hearth';",
          '',
          'interface Event {',
          '  name?: string;',
          '}',
          '',
          '/** Invoke with `hearth invoke ' + name + ' \'{"name":"Ada"}\'`. */',
          'const handler: Handler<Event | null> = async (event, ctx) => {',
          "  return { message: `Hello, ${event?.name ?? 'world'}!`, invocationId: ctx.invocationId };",
          '};',
          '',
          'export default handler;',
          '',
        ].join('\n'),
      };
    case 'lambda':
      return {
        'hearth.json': json({ name }),
        // No "type": "module": Lambda's Node.js functions are CommonJS by default.
        'package.json': packageJson(name),
        'index.js': [
          "'use strict';",
          '',
          '// An AWS Lambda handler, unchanged: over /fn/' + name + '/ it gets an API Gateway 2.0 event,',
          '// and its { statusCode, headers, body } becomes the HTTP response.',
          'exports.handler = async (event, context) => {',
          '  const who = (event.queryStringParameters && event.queryStringParameters.name) || (event.name) || "world";',
          '  return {',
          '    statusCode: 200,',
          "    headers: { 'content-type': 'application/json' },",
          '    body: JSON.stringify({ message: `Hello, ${who}!`, requestId: context.awsRequestId }),',
          '  };',
          '};',
          '',
        ].join('\n'),
      };
    case 'fetch':
      return {
        'hearth.json': json({ name }),
        'package.json': packageJson(name, { type: 'module' }),
        'tsconfig.json': json({ ...JSON.parse(tsconfig), compilerOptions: { ...JSON.parse(tsconfig).compilerOptions, lib: ['ES2022', 'DOM'] } }),
        'index.ts': [
          "import type { FetchHandler } from 'hearth';",
          '',
          '/** Served at /fn/' + name + '/ (the HTTP trigger). */',
          'const app: FetchHandler = {',
          '  fetch(request) {',
          '    const url = new URL(request.url);',
          "    return Response.json({ path: url.pathname, method: request.method });",
          '  },',
          '};',
          '',
          'export default app;',
          '',
        ].join('\n'),
      };
    case 'hono':
      return {
        'hearth.json': json({ name }),
        'package.json': packageJson(name, { type: 'module', dependencies: { hono: '^4' } }),
        'tsconfig.json': json({ ...JSON.parse(tsconfig), compilerOptions: { ...JSON.parse(tsconfig).compilerOptions, lib: ['ES2022', 'DOM'] } }),
        'index.ts': [
          "import { Hono } from 'hono';",
          '',
          '/** Served at /fn/' + name + '/ (the HTTP trigger). Run `npm install` before deploying: hono is bundled in. */',
          'const app = new Hono();',
          "app.get('/', (c) => c.json({ hello: 'world' }));",
          "app.get('/hello/:name', (c) => c.text(`Hello, ${c.req.param('name')}!`));",
          '',
          'export default app;',
          '',
        ].join('\n'),
      };
    case 'cron':
      return {
        'hearth.json': json({ name, schedules: [{ id: 'every-5-minutes', cron: '*/5 * * * *', event: { source: 'schedule' } }] }),
        'package.json': packageJson(name, { type: 'module' }),
        'tsconfig.json': tsconfig,
        'index.ts': [
          "import type { Handler } from 'hearth';",
          '',
          '/** Runs on the schedules in hearth.json; `hearth logs ' + name + ' -f` shows each run. */',
          'const handler: Handler<{ source?: string } | null> = async (event, ctx) => {',
          "  console.log(`run ${ctx.invocationId} from ${event?.source ?? 'a manual invoke'}`);",
          '  return { ranAt: new Date().toISOString() };',
          '};',
          '',
          'export default handler;',
          '',
        ].join('\n'),
      };
  }
}
