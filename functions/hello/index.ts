import type { Context } from '../../src/types.ts';

interface HelloEvent {
  name?: string;
}

/** The smallest useful function: greets whoever the event names. */
export default async function hello(event: HelloEvent | null, ctx: Context) {
  const name = event?.name ?? 'world';
  console.log(`greeting ${name} (invocation ${ctx.invocationId})`);
  return { message: `Hello, ${name}!` };
}
