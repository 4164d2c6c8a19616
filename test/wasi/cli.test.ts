/**
 * The CLI as a user meets it: guest environment and arguments, exit statuses, error messages
 * for bad input, traps, and the hello example.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { cleanupTmp, EXAMPLES, FIXTURES, fingerprint, fixture, runCli, show, tmpDir } from './helpers.js';

test.after(cleanupTmp);

function envLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('env ')).sort();
}

function argLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /^arg(c=|\[)/.test(l));
}

test('--env A=1 --env B=2: the guest sees exactly these variables', () => {
  const r = runCli(['run', '--env', 'A=1', '--env', 'B=2', fixture('args_env')],
    { extraEnv: { SECRET_HOST_VAR: 'do-not-leak', A: 'host-value' } });
  assert.is(r.stderr, '', show(r));
  assert.is(r.status, 0, show(r));
  assert.equal(envLines(r.stdout), ['env A=1', 'env B=2'], show(r));
  assert.ok(r.stdout.includes('envc=2\n'), show(r));
  assert.not.ok(r.stdout.includes('SECRET_HOST_VAR'), 'host environment leaked');
  assert.not.ok(r.stdout.includes('PATH='), 'host PATH leaked');
});

test('no --env: the guest environment is empty', () => {
  const r = runCli(['run', fixture('args_env')], { extraEnv: { SECRET_HOST_VAR: 'do-not-leak' } });
  assert.is(r.stderr, '', show(r));
  assert.is(r.status, 0, show(r));
  assert.equal(envLines(r.stdout), []);
  assert.ok(r.stdout.includes('envc=0\n'), show(r));
});

test('guest arguments starting with - reach the guest (option parsing stops at the module)', () => {
  const r = runCli(['run', '--env', 'A=1', fixture('args_env'), '-v', '--env', 'B=2', '--dir', 'x::/y', '--help', '--', '-']);
  assert.is(r.stderr, '', show(r));
  assert.is(r.status, 0, show(r));
  assert.equal(argLines(r.stdout), ['argc=9', 'arg[1]=-v', 'arg[2]=--env', 'arg[3]=B=2', 'arg[4]=--dir', 'arg[5]=x::/y',
    'arg[6]=--help', 'arg[7]=--', 'arg[8]=-'], show(r));
  assert.equal(envLines(r.stdout), ['env A=1'], 'the guest\'s --env B=2 is an argument, not an option');
});

test('no guest arguments: argc is 1 (just argv[0])', () => {
  const r = runCli(['run', fixture('args_env')]);
  assert.ok(r.stdout.startsWith('argc=1\nok args\n'), show(r));
});

test('proc_exit(42): the CLI exits 42 and nothing after proc_exit runs', () => {
  const r = runCli(['run', fixture('exit42')]);
  assert.is(r.status, 42, show(r));
  assert.is(r.stdout, 'before exit\n', show(r));
  assert.is(r.stderr, '', show(r));
});

test('a trapping program exits non-zero with one line on stderr', () => {
  const r = runCli(['run', fixture('trap')]);
  assert.ok(r.status !== 0 && r.status !== null, show(r));
  assert.is(r.signal, null, show(r));
  assert.is(r.stdout, 'before trap\n', show(r));
  assert.match(r.stderr, /^[^\n]+\n$/, `exactly one line on stderr\n${show(r)}`);
  assert.not.match(r.stderr, /\bat .*\.js:\d+/, 'no JavaScript stack trace');
});

test('a bad flag exits 2 with a message', () => {
  const r = runCli(['run', '--no-such-flag', fixture('exit42')]);
  assert.is(r.status, 2, show(r));
  assert.ok(r.stderr.trim().length > 0, show(r));
  assert.match(r.stderr, /no-such-flag/, show(r));
  assert.is(r.stdout, '', show(r));
});

test('a missing .wasm exits 2 with a message naming it', () => {
  const missing = path.join(tmpDir(), 'missing.wasm');
  const r = runCli(['run', missing]);
  assert.is(r.status, 2, show(r));
  assert.match(r.stderr, /missing\.wasm/, show(r));
  assert.is(r.stdout, '', show(r));
});

test('a file that is not WebAssembly exits 2 with a message', () => {
  const r = runCli(['run', path.join(FIXTURES, 'check.h')]);
  assert.is(r.status, 2, show(r));
  assert.ok(r.stderr.trim().length > 0, show(r));
  assert.is(r.stdout, '', show(r));
});

for (const [what, spec] of [
  ['an empty host path', '::/data'],
  ['an empty guest path', '/tmp::'],
  ['an empty spec', ''],
] as const) {
  test(`a bad --dir spec (${what}) exits 2 with a message`, () => {
    const r = runCli(['run', '--dir', spec, fixture('exit42')]);
    assert.is(r.status, 2, show(r));
    assert.ok(r.stderr.trim().length > 0, show(r));
    assert.is(r.stdout, '', show(r));
  });
}

test('a --dir whose host directory does not exist exits 2 with a message naming it', () => {
  const missing = path.join(tmpDir(), 'no-such-dir');
  const r = runCli(['run', '--dir', `${missing}::/data`, fixture('exit42')]);
  assert.is(r.status, 2, show(r));
  assert.match(r.stderr, /no-such-dir/, show(r));
  assert.is(r.stdout, '', show(r));
});

test('a bad -v spec (bad mode) exits 2', () => {
  const r = runCli(['run', '-v', `${tmpDir()}:/data:rx`, fixture('exit42')]);
  assert.is(r.status, 2, show(r));
  assert.ok(r.stderr.trim().length > 0, show(r));
});

test('a --mount with a bad cache policy exits 2 naming the key', () => {
  const r = runCli(['run', '--mount', `src=${tmpDir()},dst=/data,cache=sometimes`, fixture('exit42')]);
  assert.is(r.status, 2, show(r));
  assert.match(r.stderr, /cache takes exclusive or shared/, show(r));
});

test('examples/hello.wasm: greets, echoes its args, lists /data, writes nothing', () => {
  const before = fingerprint(EXAMPLES);
  const r = runCli(['run', '--dir', `${EXAMPLES}::/data`, path.join(EXAMPLES, 'hello.wasm'), 'from-the-sandbox', '--flag']);
  assert.is(r.stderr, '', show(r));
  assert.is(r.status, 0, show(r));
  const lines = r.stdout.split('\n');
  assert.equal(lines.slice(0, 4), ['hello from the sandbox', '  arg 1: from-the-sandbox', '  arg 2: --flag', '/data holds:'], show(r));
  const listed = lines.slice(4).filter((l) => l.startsWith('  ')).map((l) => l.slice(2)).sort();
  const expected = fs.readdirSync(EXAMPLES).filter((n) => !n.startsWith('.')).sort();
  assert.equal(listed, expected, show(r));
  const passwd = lines.find((l) => l.startsWith('/etc/passwd from the host: '));
  assert.ok(passwd, show(r));
  assert.not.match(passwd!, 'visible', 'the host /etc/passwd is reachable from the guest');
  assert.equal(fingerprint(EXAMPLES), before, 'examples/ unchanged');
});

test.run();
