/**
 * The dependency direction between the layers (docs/ARCHITECTURE.md): each folder may import only
 * the folders below it. A wrong-way import fails `npm test` (and so CI).
 *
 *   cli.ts, index.ts, api/   (top)
 *   kernel/
 *   fs/
 *   host/
 *   actors/
 *   wasi/                    (bottom: the ABI, no imports)
 */
const layers = ['wasi', 'actors', 'host', 'fs', 'kernel', 'api'];
const forbidden = layers.map((layer, i) => ({
  name: `${layer}-imports-upward`,
  comment: `src/${layer} may only import ${layers.slice(0, i).map((l) => `src/${l}`).join(', ') || 'nothing of the project'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${[...layers.slice(i + 1), 'cli\\.ts', 'index\\.ts'].join('|')})` },
}));

module.exports = {
  forbidden: [
    ...forbidden,
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'src-not-from-tests', severity: 'error', from: { path: '^src/' }, to: { path: '^(test|bench|scripts)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
