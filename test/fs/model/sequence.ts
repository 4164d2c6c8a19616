// A whole sequence run on both sides and compared, and the fast-check property around it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import type { FileHandle } from '../../../src/fs/vfs/filesystem.js';
import type { VirtualFilesystem } from '../../../src/fs/vfs/virtual-filesystem.js';
import { concrete, existingPaths, rmtreePlan, show, type Op, type PathSpec } from './operations.js';
import { errnoName, inSandbox, onHost, type OpenFiles, type Primitive } from './runners.js';

/** Sequences run 0 to MAX_OPS long (fast-check's size 'max': its default would stop them at 10). */
export const MAX_OPS = 40;


function isWritableDir(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A scratch directory for a property's trees, on a memory filesystem where there is one: a run
 * makes and removes a tree on the host, and that is most of a run's time on a disk filesystem.
 */
export function scratchDir(prefix: string): string {
  return fs.mkdtempSync(path.join(isWritableDir('/dev/shm') ? '/dev/shm' : os.tmpdir(), prefix));
}

export interface Sequence {
  ops: readonly Op<PathSpec>[];
  /** The plain Linux directory the operations also run on (node:fs); picks name its paths. */
  host: string;
  /** The VFS over the filesystem under test, which the operations run through. */
  vfs: VirtualFilesystem;
  /** What the filesystem under test is called in a failure ("the overlay"). */
  name: string;
  /** Compares the states; runs before the first operation, at each `check` and at the end. */
  check(when: string): void;
  /** The host directory the filesystem under test serves, which `outside` operations change directly. */
  outside?: string;
  /** Called before each operation (a goferfs with cache=shared ticks its OperationClock, as the Sentry does per syscall). */
  beforeEach?(): void;
}

/**
 * Runs one sequence on both sides: after each operation the errnos (and what an fdread saw) must
 * be the same. Throws what differed first, with the sequence as it ran (concrete paths).
 */
export function runSequence({ ops, host, vfs, name, check, outside, beforeEach }: Sequence): void {
  const ran: Op[] = [];
  const everSeen = new Set(existingPaths(host));
  const hostFiles: OpenFiles<number> = { list: [], lastRead: '' };
  const sandboxFiles: OpenFiles<FileHandle | null> = { list: [], lastRead: '' };
  try {
    check('before any operation');
    ops.forEach((generated, i) => {
      const op = concrete(generated, host, everSeen);
      beforeEach?.();
      if (op.op === 'check') {
        ran.push(op);
        check(`at operation ${i}`);
        return;
      }
      if (op.op === 'outside') {
        const inner = op.inner as Primitive;
        if (outside === undefined) throw new Error('an outside operation, and no Sequence.outside to run it on');
        ran.push(op);
        const there = onHost(outside, inner, { list: [], lastRead: '' }), want = onHost(host, inner, hostFiles);
        if (there !== want) throw new Error(`operation ${i} ${show(op)}: the served directory says ${errnoName(there)}, Linux ${errnoName(want)}`);
        for (const p of existingPaths(host)) everSeen.add(p);
        return;
      }
      for (const step of op.op === 'rmtree' ? rmtreePlan(host, op.path) : [op]) {
        if (step.op === 'check' || step.op === 'rmtree' || step.op === 'outside') continue;
        ran.push(step);
        const want = onHost(host, step, hostFiles);
        const got = inSandbox(vfs, step, sandboxFiles);
        if (got !== want) throw new Error(`operation ${i} ${show(step)}: ${name} says ${errnoName(got)}, Linux ${errnoName(want)}`);
        if (hostFiles.lastRead !== sandboxFiles.lastRead) {
          throw new Error(`operation ${i} ${show(step)}: ${name} reads ${sandboxFiles.lastRead}, Linux ${hostFiles.lastRead}`);
        }
      }
      for (const p of existingPaths(host)) everSeen.add(p);
    });
    check('at the end');
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    e.message += `\n\nthe sequence as run: [${ran.map(show).join(', ')}]`;
    throw e;
  } finally {
    for (const f of hostFiles.list) fs.closeSync(f.h);
    for (const f of sandboxFiles.list) f.h?.close();
  }
}

/** fast-check over `runs` sequences of `arb`; a failure fails the test with the shrunk sequence and what differed. */
export function holdsFor(arb: fc.Arbitrary<Op<PathSpec>>, runs: number, property: (ops: Op<PathSpec>[]) => void): void {
  const details = fc.check(fc.property(fc.array(arb, { maxLength: MAX_OPS, size: 'max' }), property), { numRuns: runs });
  if (details.failed) {
    // fast-check's report names the shrunk sequence; the error under it says what differed.
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    assert.unreachable(`${fc.defaultReportMessage(details)}\n\n${cause}`);
  }
}
