/**
 * Runs the uvu suites (compiled to dist/test) and ends with one plain line `N passed, N failed`,
 * the summary CI reads. uvu's own exit status is kept.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const uvu = fileURLToPath(new URL('../../node_modules/uvu/bin.js', import.meta.url));
const child = spawn(process.execPath, [uvu, 'dist/test', '\\.test\\.js$', ...process.argv.slice(2)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (c: Buffer) => { process.stdout.write(c); out += c.toString(); });
child.on('close', (code) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  // A suite that crashed before uvu could total it still counts as a failure.
  const failed = Math.max(total - passed - skipped, code === 0 ? 0 : 1);
  process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exitCode = code ?? 1;
});
