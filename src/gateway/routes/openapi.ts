import { Hono } from 'hono';
import { html, raw } from 'hono/html';
import { z } from 'zod';
import { openApiDocument, operations } from '../../api/index.ts';

/** `GET /openapi.json` (OpenAPI 3.1, generated from the zod schemas) and `GET /docs`, the same for people. */
export function openApiRoutes(): Hono {
  const app = new Hono();
  // Built once: the schemas do not change while the server runs.
  let doc: Record<string, unknown> | undefined;
  app.get('/openapi.json', (c) => c.json((doc ??= openApiDocument())));
  app.get('/docs', (c) => c.html(docsPage()));
  return app;
}

function schemaText(schema: z.ZodType | undefined, io: 'input' | 'output'): string {
  if (!schema) return '';
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return JSON.stringify(json, null, 2);
}

function docsPage() {
  const rows = operations.map((op) => html`
    <section id="${op.id}">
      <h3><span class="m ${op.method}">${op.method.toUpperCase()}</span> <code>${op.path}</code></h3>
      <p>${op.summary} → <b>${op.status}</b></p>
      ${op.query ? html`<details><summary>query</summary><pre>${schemaText(op.query, 'input')}</pre></details>` : ''}
      ${op.body ? html`<details><summary>request body</summary><pre>${schemaText(op.body, 'input')}</pre></details>` : ''}
      ${op.response ? html`<details><summary>response ${op.status}</summary><pre>${schemaText(op.response, 'output')}</pre></details>` : ''}
    </section>`);
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hearth API</title>
<style>${raw(`body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px ui-monospace,monospace}pre{background:#f5f5f4;padding:.6rem;overflow:auto}
.m{display:inline-block;min-width:4.5rem;font:600 12px ui-monospace,monospace;padding:2px 6px;border-radius:4px;color:#fff;text-align:center}
.get{background:#2563eb}.post{background:#16a34a}.put{background:#d97706}.delete{background:#dc2626}section{border-top:1px solid #e7e5e4}`)}</style></head>
<body><h1>Hearth HTTP API</h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are <code>{"error":{"code","message"}}</code>.
With <code>HEARTH_API_KEY</code> set, <code>/v1</code> calls need <code>Authorization: Bearer &lt;key&gt;</code>.</p>
${rows}
</body></html>`;
}
