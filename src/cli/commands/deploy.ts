import type { Command } from 'commander';
import type { HearthClient } from '../../sdk/index.ts';
import type { ContextFactory } from '../context.ts';
import { bytes, printJson, type Out } from '../output.ts';
import { Progress } from '../progress.ts';

export function deployCommand(program: Command, ctx: ContextFactory): void {
  program
    .command('deploy')
    .description('bundle a function folder (or file) locally with esbuild and deploy it')
    .argument('<path>', 'folder with hearth.json / index.ts, or a single file')
    .option('-n, --name <name>', 'function name (default: hearth.json "name", else the folder name)')
    .addHelpText('after', '\nThe folder\'s own node_modules are bundled in; hearth.json (if present) is the config.\nOther files of the folder (templates, JSON, .wasm, fonts) ship beside the bundle; narrow or widen them with\n"files" globs in hearth.json or a .hearthignore. Packages listed in "external" are copied, not bundled.\nExample: hearth deploy ./functions/hello')
    .action(async (target: string, opts: { name?: string }, cmd: Command) => {
      const { client, out } = ctx(cmd);
      await deployFolder(client, out, target, opts.name);
    });
}

/** Bundles `target` locally and deploys it; prints what happened. Also what `hearth dev` runs on every change. */
export async function deployFolder(client: HearthClient, out: Out, target: string, name: string | undefined): Promise<{ name: string; version: number }> {
  const progress = new Progress(out.tty && !out.json);
  const started = performance.now();
  try {
    progress.step(`bundling ${target}`);
    // Loaded here, not at start: esbuild alone would double the time every other command takes to start.
    const { bundleLocal } = await import('../bundle.ts');
    const bundle = await bundleLocal(target, name);
    const beside = Object.keys(bundle.files).length;
    const assets = beside > 0 ? ` + ${beside} files, ${bytes(bundle.fileBytes)}` : '';
    progress.step(`uploading ${bundle.name} (${bytes(bundle.bytes)}${assets}) and building its image`);
    const res = await client.deploy({
      name: bundle.name,
      files: { ...bundle.files, 'index.mjs': bundle.code },
      entry: 'index.mjs',
      config: bundle.config,
    });
    progress.stop();
    const ms = Math.round(performance.now() - started);
    if (out.json) {
      printJson(out, { name: res.name, version: res.version, digest: res.digest, bundleBytes: res.bundleBytes, assetBytes: res.assetBytes ?? 0, functionLayerBytes: res.layers.at(-1)?.size ?? 0, localBundleMs: Math.round(bundle.ms), serverBuildMs: res.buildMs, totalMs: ms, unchanged: res.unchanged === true });
      return { name: res.name, version: res.version };
    }
    out.stdout(res.unchanged ? `${res.name} v${res.version} unchanged (same source and config)\n` : `deployed ${res.name} v${res.version}\n`);
    out.stdout(`  digest  ${res.digest}\n`);
    out.stdout(`  bundle  ${bytes(res.bundleBytes)} (entry ${bundle.entry})\n`);
    if (beside > 0) out.stdout(`  files   ${beside} beside the code, ${bytes(bundle.fileBytes)}\n`);
    out.stdout(`  time    ${ms} ms (bundle ${Math.round(bundle.ms)} ms, server build ${Math.round(res.buildMs)} ms)\n`);
    return { name: res.name, version: res.version };
  } finally {
    progress.stop();
  }
}
