import { Hono } from 'hono';
import { streamText } from 'hono/streaming';

type Env = { Bindings: Record<string, string> };

/**
 * A Hono app as a function: deployed as-is, its routes are served under /fn/hono-app/.
 * `c.env` is the function's configured env (hearth.json "env").
 *
 *   curl localhost:8080/fn/hono-app/hello/Ada
 *   curl -N localhost:8080/fn/hono-app/countdown?from=3
 */
const app = new Hono<Env>();

app.get('/', (c) => c.json({ routes: ['/hello/:name', 'POST /echo', '/countdown?from=n'] }));

app.get('/hello/:name', (c) => c.json({ message: `${c.env.GREETING ?? 'Hi'}, ${c.req.param('name')}!` }));

app.post('/echo', async (c) => c.json({ received: await c.req.json(), contentType: c.req.header('content-type') ?? null }));

// Streams one line per 100 ms: the trigger forwards each chunk as the function writes it.
app.get('/countdown', (c) => {
  const from = Math.min(Number(c.req.query('from') ?? 5), 50);
  return streamText(c, async (stream) => {
    for (let i = from; i > 0; i--) {
      await stream.writeln(String(i));
      await stream.sleep(100);
    }
    await stream.writeln('liftoff');
  });
});

export default app;
