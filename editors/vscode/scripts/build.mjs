// Bundles the extension with esbuild.
//
//   node scripts/build.mjs           dist/extension.js (what the .vsix ships)
//   node scripts/build.mjs --watch   the same, rebuilt on every change
//   node scripts/build.mjs --unit    out/util.js and out/extension.js (unminified),
//                                    which the unit tests in test/unit load
//
// Type checking is separate (`npm run typecheck`): esbuild only strips types.
import * as esbuild from 'esbuild';

const args = new Set(process.argv.slice(2));

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  logLevel: 'warning',
};

if (args.has('--unit')) {
  await esbuild.build({
    ...common,
    entryPoints: ['src/util.ts', 'src/extension.ts'],
    outdir: 'out',
    external: ['vscode'],
  });
} else {
  const options = {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    // `vscode` is provided by the editor at run time.
    external: ['vscode'],
    sourcemap: args.has('--watch'),
    minify: !args.has('--watch'),
  };
  if (args.has('--watch')) {
    const context = await esbuild.context(options);
    await context.watch();
    console.log('watching src/ for changes');
  } else {
    await esbuild.build(options);
  }
}
