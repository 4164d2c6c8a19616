/**
 * WASI preview1 conformance: each self-checking program in test/fixtures/wasi runs through the
 * CLI as a real child process. A program prints `ok GROUP` per check group and exits 0 only if
 * every check passed; a failed check prints `FAIL file:line: expr (got ...)` on stderr. The test
 * asserts the exit status, the exact stdout, an empty stderr, and the host disk afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import path from 'node:path';
import { cleanupTmp, FIXTURES, fixture, okLines, runCli, show, tmpDir, tree } from './helpers.js';

test.after(cleanupTmp);

/** Runs fixture `name` with HOST mounted at GUEST and GUEST as argv[1]; asserts a clean pass. */
function pass(name: string, host: string, guest: string, expectedStdout: string, extra: string[] = []): ReturnType<typeof runCli> {
  const r = runCli(['run', '--dir', `${host}::${guest}`, ...extra, fixture(name), guest]);
  assert.is(r.stderr, '', `${name}: stderr must be empty\n${show(r)}`);
  assert.is(r.stdout, expectedStdout, `${name}: stdout\n${show(r)}`);
  assert.is(r.status, 0, `${name}: exit status\n${show(r)}`);
  return r;
}

for (const guest of ['/', '/data']) {
  test(`fd_ops (mounted at ${guest})`, () => {
    const host = tmpDir();
    pass('fd_ops', host, guest, okLines('fd_write', 'fd_filestat_get', 'fd_tell', 'fd_seek', 'fd_read', 'fd_pwrite',
      'fd_pread', 'fd_seek_hole', 'fd_filestat_set_size', 'fd_allocate', 'fd_filestat_set_times', 'fd_advise',
      'fd_sync', 'fd_datasync', 'fd_renumber', 'fd_close'));
    assert.equal(tree(host), { 'fd_ops.txt': 'file:0123456789ABCDEF', 'renumbered.txt': 'file:via renumber' });
  });
}

test('fd_rights: fdstat flags (APPEND, NONBLOCK), rights only shrink', () => {
  const host = tmpDir();
  pass('fd_rights', host, '/', okLines('fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_fdstat_set_rights',
    'path_open_append', 'path_open_rights', 'fdstat_after_change'));
  assert.equal(tree(host), { 'append.txt': 'file:startENDmore', 'append2.txt': 'file:abcXYZ' });
});

for (const guest of ['/', '/data']) {
  test(`path_ops (mounted at ${guest})`, () => {
    const host = tmpDir();
    pass('path_ops', host, guest, okLines('path_create_directory', 'path_open', 'path_filestat_get',
      'path_filestat_set_times', 'path_link', 'path_unlink_file', 'path_remove_directory', 'path_rename'));
    assert.equal(tree(host), {
      po: 'dir',
      'po/dst': 'dir',
      'po/hard.txt': 'file:kept',
      'po/kept.txt': 'file:kept',
      'po/renamed.txt': 'file:moved',
      'po/sub': 'dir',
      'po/sub/inner.txt': 'file:inner',
      'po/trunc.txt': 'file:',
    });
    const kept = fs.statSync(path.join(host, 'po/kept.txt'), { bigint: true });
    const hard = fs.statSync(path.join(host, 'po/hard.txt'), { bigint: true });
    assert.is(kept.ino, hard.ino, 'hard.txt is a hard link of kept.txt on the host');
    assert.is(kept.nlink, 2n);
    // path_filestat_set_times reached the host with microsecond precision
    const sub = fs.statSync(path.join(host, 'po/sub'), { bigint: true });
    const want = 1234567899n * 1_000_000_000n + 222_000n;
    assert.ok(sub.mtimeNs - want < 2000n && want - sub.mtimeNs < 2000n, `po/sub mtime ${sub.mtimeNs} ≈ ${want}`);
  });
}

for (const guest of ['/', '/data']) {
  test(`path_symlinks (mounted at ${guest})`, () => {
    const host = tmpDir();
    const abs = guest === '/' ? '/sl/target.txt' : `${guest}/sl/target.txt`;
    fs.symlinkSync(abs, path.join(host, 'planted_abs'));
    pass('path_symlinks', host, guest, okLines('path_symlink', 'path_readlink', 'symlink_follow', 'symlink_loop', 'dotdot_root'));
    assert.equal(tree(host), {
      planted_abs: `link:${abs}`,
      sl: 'dir',
      'sl/d': 'dir',
      'sl/dangling': 'link:nowhere',
      'sl/dirlink': 'link:d',
      'sl/loop_a': 'link:loop_b',
      'sl/loop_b': 'link:loop_a',
      'sl/rel': 'link:target.txt',
      'sl/target.txt': 'file:target',
      'sl/up': 'link:../../../../../../../../..',
    });
  });
}

test('path_symlinks: a mount below a host directory never reaches that directory', () => {
  // The host parent holds a secret; the mount is a child of it. The program's ".." and "up"
  // link checks compare against the sandbox root; here we also make sure nothing was written
  // outside the mount and the secret is untouched.
  const parent = tmpDir();
  const host = path.join(parent, 'mnt');
  fs.mkdirSync(host);
  fs.writeFileSync(path.join(parent, 'secret.txt'), 'secret');
  fs.symlinkSync('/data/sl/target.txt', path.join(host, 'planted_abs'));
  pass('path_symlinks', host, '/data', okLines('path_symlink', 'path_readlink', 'symlink_follow', 'symlink_loop', 'dotdot_root'));
  assert.equal(Object.keys(tree(parent)).filter((k) => !k.startsWith('mnt')), ['secret.txt']);
  assert.is(fs.readFileSync(path.join(parent, 'secret.txt'), 'utf8'), 'secret');
});

for (const guest of ['/', '/data']) {
  test(`fd_readdir (mounted at ${guest})`, () => {
    const host = tmpDir();
    const names = ['.', '..'];
    for (let i = 0; i < 25; i++) if (i !== 13) names.push(`f${String(i).padStart(2, '0')}`);
    names.push('ln', 'new', 'sub');
    pass('fd_readdir', host, guest, `${okLines('fd_readdir', 'fd_readdir_cookie')}${names.join(' ')}\n${okLines('fd_readdir_changes', 'fd_readdir_errors')}`);
    const t = tree(host);
    assert.is(t['rd/ln'], 'link:f00');
    assert.is(t['rd/sub'], 'dir');
    assert.is(t['rd/new'], 'file:y');
    assert.is(t['rd/f13'], undefined);
    assert.is(Object.keys(t).length, 1 + 24 + 3);
  });
}

test('poll_oneoff: clocks really sleep, regular files are ready at once', () => {
  const host = tmpDir();
  const r = pass('poll', host, '/', okLines('poll_clock_relative', 'poll_clock_absolute', 'poll_fd', 'poll_errors'));
  // 50 + 20 + 30 ms relative, 40 ms absolute: the run cannot be shorter
  assert.ok(r.ms >= 140, `poll run took ${r.ms} ms`);
  assert.equal(tree(host), { 'poll.txt': 'file:0123456789' });
});

test('sock_*: ENOTSOCK on files, EBADF on bad fds', () => {
  const host = tmpDir();
  pass('sock', host, '/', okLines('sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown', 'sock_file_intact'));
  assert.equal(tree(host), { 'sock.txt': 'file:not a socket' });
});

test('efault: bad guest pointers are EFAULT, not a crash, and have no effect', () => {
  const host = tmpDir();
  pass('efault', host, '/data', okLines('efault_iovec', 'efault_path', 'efault_results', 'efault_survives'));
  assert.equal(tree(host), { 'efault.txt': 'file:0123456789' });
});

test('prestat: exactly one preopen, "/" at fd 3, even with several mounts', () => {
  const a = tmpDir();
  const b = tmpDir();
  const r = runCli(['run', '--dir', `${a}::/data`, '--dir', `${b}::/other`, fixture('prestat')]);
  assert.is(r.stderr, '', show(r));
  assert.is(r.stdout, `preopen 3 /\n${okLines('fd_prestat_get', 'fd_prestat_dir_name')}`, show(r));
  assert.is(r.status, 0, show(r));
  assert.equal(tree(a), {});
  assert.equal(tree(b), {});
});

test('prestat: no mounts at all still gives the "/" preopen', () => {
  const r = runCli(['run', fixture('prestat')]);
  assert.is(r.stderr, '', show(r));
  assert.is(r.stdout, `preopen 3 /\n${okLines('fd_prestat_get', 'fd_prestat_dir_name')}`, show(r));
  assert.is(r.status, 0, show(r));
});

test('clock_random: clocks, random_get, sched_yield, proc_raise', () => {
  const r = runCli(['run', fixture('clock_random')]);
  assert.is(r.stderr, '', show(r));
  assert.is(r.stdout, okLines('clock_res_get', 'clock_time_get', 'random_get', 'sched_yield', 'proc_raise'), show(r));
  assert.is(r.status, 0, show(r));
});

test('args_env: arguments and environment, byte for byte', () => {
  const r = runCli(['run', '--env', 'GREETING=hello world', '--env', 'EMPTY=', '--env', 'EQ=a=b', fixture('args_env'), 'one', 'two words', '', 'ünïcödé'],
    { extraEnv: { ASB_HOST_ONLY: 'leak' } });
  assert.is(r.stderr, '', show(r));
  assert.is(r.status, 0, show(r));
  const lines = r.stdout.split('\n');
  assert.equal(lines.slice(0, 5), ['argc=5', 'arg[1]=one', 'arg[2]=two words', 'arg[3]=', 'arg[4]=ünïcödé'], show(r));
  assert.is(lines[5], 'ok args');
  assert.equal(lines.filter((l) => l.startsWith('env ')).sort(), ['env EMPTY=', 'env EQ=a=b', 'env GREETING=hello world']);
  assert.ok(lines.includes('envc=3'), show(r));
  assert.ok(lines.includes('ok environ'), show(r));
  assert.not.match(r.stdout, 'ASB_HOST_ONLY');
});

const PREVIEW1 = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get', 'fd_advise',
  'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_fdstat_set_rights',
  'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread', 'fd_prestat_get',
  'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek', 'fd_sync', 'fd_tell',
  'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times', 'path_link', 'path_open',
  'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink', 'path_unlink_file', 'poll_oneoff',
  'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
];

test('the fixtures import every wasi_snapshot_preview1 function, and every .c has its .wasm', () => {
  const sources = fs.readdirSync(FIXTURES).filter((n) => n.endsWith('.c'));
  assert.ok(sources.length >= 10);
  const imported = new Set<string>();
  for (const c of sources) {
    const wasm = path.join(FIXTURES, c.replace(/\.c$/, '.wasm'));
    assert.ok(fs.existsSync(wasm), `${wasm} missing: run scripts/build-fixtures.sh`);
    const mod = new WebAssembly.Module(fs.readFileSync(wasm));
    for (const imp of WebAssembly.Module.imports(mod)) {
      assert.is(imp.module, 'wasi_snapshot_preview1', `${c} imports ${imp.module}.${imp.name}`);
      imported.add(imp.name);
    }
  }
  assert.equal(PREVIEW1.filter((f) => !imported.has(f)), [], 'functions no fixture calls');
});

test.run();
