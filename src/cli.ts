#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import { createSandbox, TRAP_EXIT_CODE, type RunResult } from './api/sandbox.js';
import { ActorSandboxError, InvalidOptionError } from './api/errors.js';
import { loadBundle } from './api/oci-bundle.js';
import { parseDirFlag, parseMountFlag, parseOverlayFlag, parseVolumeFlag, type MountSpec, type OverlayMedium, type RootfsSpec } from './api/mount-spec.js';

/**
 * Exit statuses the CLI itself uses; any other status is the guest's own.
 * 2: bad usage or input (flag, mount, program file). 70: the sandbox failed (an actor died).
 * 77: the machine lacks the privilege to build the sandbox's mount namespace (sysexits' NOPERM).
 * 134: the guest trapped.
 */
const EXIT_USAGE = 2;
const EXIT_SANDBOX = 70;
const EXIT_NOPERM = 77;

const collect = (v: string, acc: string[]): string[] => [...acc, v];

async function main(argv: string[]): Promise<number> {
  const program = new Command('actor-sandbox')
    .description('Run WASI programs in a gVisor-style sandbox: every syscall is served by a user-space kernel.')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let status = 0;
  program.command('run')
    .description('run a WASI preview1 command; options stop at the module, so guest arguments may start with -')
    .argument('[program]', 'the .wasm module (omitted with --bundle, whose process.args name it)')
    .argument('[args...]', 'arguments for the guest')
    .passThroughOptions()
    .option('--dir <HOST::GUEST>', 'mount a host directory (repeatable)', collect, [])
    .option('-v, --volume <HOST:GUEST[:ro]>', 'mount a host directory, docker style (repeatable)', collect, [])
    .option('--mount <type=bind,src=…,dst=…[,readonly][,cache=shared][,directfs=off]>', 'mount a host directory, OCI style (repeatable)', collect, [])
    .option('--rootfs <DIR>', 'a host directory as the root; writes go to an in-sandbox overlay unless --overlay none or --read-only')
    .option('--overlay <root:memory|root:self|root:dir=PATH|none>', 'where writes to the rootfs go: an in-sandbox upper layer with its data in memory (default), in a filestore file hidden in the rootfs (self) or in PATH (dir=); or none (through to the host directory)')
    .addOption(new Option('--overlay-size <bytes>', 'byte cap of the overlay upper layer (ENOSPC past it)').argParser((v) => positiveInt(v, '--overlay-size')))
    .option('--read-only', 'the rootfs is read-only: no overlay, writes fail with EROFS')
    .option('--export-upper <FILE.tar>', 'after the run, write what the program changed in the rootfs as an OCI layer tarball (deletions as .wh. whiteouts)')
    .option('--bundle <DIR>', 'run an OCI bundle: DIR/config.json gives root, mounts, process.args/env and mount hints')
    .option('--no-directfs', 'serve every host mount through its gofer, not through donated host FDs')
    .option('--env <K=V>', 'set a guest environment variable; the guest sees only these (repeatable)', collect, [])
    .addOption(new Option('--tmpfs-size <bytes>', 'byte limit of the in-memory root').argParser((v) => positiveInt(v, '--tmpfs-size')))
    .option('--json', 'print a result object (exit code, trap, timings, syscall counts) to stdout after the run')
    .action(async (prog: string | undefined, args: string[], opts: RunFlags) => { status = await run(prog, args, opts); });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    throw e;
  }
  return status;
}

interface RunFlags {
  bundle?: string; dir: string[]; volume: string[]; mount: string[]; env: string[]; tmpfsSize?: number; json?: boolean; directfs: boolean;
  rootfs?: string; overlay?: string; overlaySize?: number; readOnly?: boolean; exportUpper?: string;
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidOptionError(`${flag} takes a positive integer, not "${v}"`);
  return n;
}

async function run(progArg: string | undefined, args: string[], flags: RunFlags): Promise<number> {
  let mounts: MountSpec[];
  let env: Record<string, string> = {};
  let prog: string;
  let rootfs: RootfsSpec | undefined;
  let overlay: OverlayMedium | undefined;
  try {
    mounts = [...flags.dir.map(parseDirFlag), ...flags.volume.map(parseVolumeFlag), ...flags.mount.map(parseMountFlag)];
    if (flags.overlay !== undefined) overlay = parseOverlayFlag(flags.overlay);
    if (flags.rootfs !== undefined) rootfs = { hostPath: flags.rootfs };
    if (flags.bundle !== undefined) {
      if (progArg !== undefined) throw new InvalidOptionError('--bundle takes the program from its process.args; give no program');
      if (rootfs) throw new InvalidOptionError('--bundle names its root in root.path; give no --rootfs');
      const b = loadBundle(flags.bundle);
      rootfs = b.rootfs;
      mounts = [...b.mounts, ...mounts];
      env = b.env;
      prog = b.program;
      args = b.args;
    } else if (progArg === undefined) {
      throw new InvalidOptionError('run needs a program (PROG.wasm) or --bundle DIR');
    } else {
      prog = progArg;
    }
    for (const kv of flags.env) {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new InvalidOptionError(`bad --env "${kv}": expected K=V`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  } catch (e) {
    return report(e);
  }
  let sandbox;
  try {
    if (flags.readOnly && !rootfs) throw new InvalidOptionError('--read-only needs --rootfs or --bundle');
    if (rootfs && flags.readOnly) rootfs = { ...rootfs, readOnly: true };
    if (flags.exportUpper !== undefined && (!rootfs || rootfs.readOnly || overlay === 'none')) {
      throw new InvalidOptionError('--export-upper needs a rootfs (--rootfs or --bundle) with an overlay: not --read-only, not --overlay none');
    }
    sandbox = await createSandbox({
      mounts, directfs: flags.directfs, ...(rootfs ? { rootfs } : {}), ...(overlay ? { overlay } : {}),
      ...(flags.overlaySize ? { overlaySize: flags.overlaySize } : {}),
      ...(flags.tmpfsSize ? { tmpfs: { sizeBytes: flags.tmpfsSize } } : {}),
    });
  } catch (e) {
    return report(e);
  }
  try {
    const stdinUsable = !process.stdin.isTTY || process.stdin.readable;
    const result: RunResult = await sandbox.run(prog, {
      args, env,
      ...(stdinUsable ? { stdin: process.stdin } : {}),
      onStdout: (c) => process.stdout.write(c),
      onStderr: (c) => process.stderr.write(c),
      keepOutput: false,
      stdioTty: [Boolean(process.stdin.isTTY), Boolean(process.stdout.isTTY), Boolean(process.stderr.isTTY)],
    });
    if (result.trap !== undefined) process.stderr.write(`actor-sandbox: ${prog} trapped: ${result.trap}\n`);
    if (flags.exportUpper !== undefined) await sandbox.exportUpper(flags.exportUpper);
    if (flags.json) {
      const stats = await sandbox.stats();
      process.stdout.write(`${JSON.stringify({ exitCode: result.exitCode, signal: result.signal ?? null, trap: result.trap ?? null, timings: result.timings, sandbox: stats })}\n`);
    }
    return result.trap !== undefined ? TRAP_EXIT_CODE : result.exitCode;
  } catch (e) {
    return report(e);
  } finally {
    process.stdin.destroy();
    await sandbox.close();
  }
}

function report(e: unknown): number {
  if (e instanceof ActorSandboxError) {
    process.stderr.write(`actor-sandbox: ${e.message}\n`);
    if (e.code === 'ASB_ERR_PRIVILEGE') return EXIT_NOPERM;
    return e.code === 'ASB_ERR_KERNEL_GONE' || e.code === 'ASB_ERR_ACTOR_START' || e.code === 'ASB_ERR_HOST_GONE' ? EXIT_SANDBOX : EXIT_USAGE;
  }
  process.stderr.write(`actor-sandbox: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
  return EXIT_SANDBOX;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => { process.exitCode = report(e); });
