import { loadSettings } from './config/index.ts';
import { Hearth } from './hearth.ts';

/** `npm start`: Hearth with its embedded defaults until SIGTERM / SIGINT. */
async function main(): Promise<void> {
  const hearth = new Hearth(loadSettings());
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing in-flight invocations and removing containers`);
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    hearth.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await hearth.start();
  console.log(`Hearth listening on ${hearth.url}`);
}

main().catch((err: unknown) => {
  console.error('Hearth failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
