// A user-defined gofer backend for the tests: a flat directory whose file "boom" throws on read.
import type { BackendStat, GoferBackend } from '../../src/index.js';

type Node = 'root' | 'ok' | 'boom';

class FlakyBackend implements GoferBackend<Node> {
  constructor(private readonly text: string) {}
  root(): Node { return 'root'; }
  lookup(dir: Node, name: string): Node | undefined {
    return dir === 'root' && (name === 'ok' || name === 'boom') ? name : undefined;
  }
  stat(node: Node): BackendStat {
    return node === 'root' ? { type: 'directory', size: 0 } : { type: 'file', size: this.text.length, mtimeMs: 1_600_000_000_000 };
  }
  readdir(): string[] { return ['boom', 'ok']; }
  read(file: Node, offset: number, length: number): Uint8Array {
    if (file === 'boom') throw new Error('the backend failed on purpose');
    return Buffer.from(this.text).subarray(offset, offset + length);
  }
  readlink(): string { return ''; }
}

export function makeFlaky(options: unknown): GoferBackend<Node> {
  return new FlakyBackend((options as { text: string }).text);
}
