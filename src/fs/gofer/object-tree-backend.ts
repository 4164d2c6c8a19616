/**
 * A GoferBackend that serves a JS object tree, read-only: the shipped example of a custom gofer
 * backend, and a handy fixture mount for test runners. In the tree a string or a Uint8Array is a
 * file, an object is a directory, and an object whose only key is `$symlink` is a symlink:
 *
 *   { 'README.md': '# hi\n', data: { 'a.bin': new Uint8Array([1, 2]) }, latest: { $symlink: 'data/a.bin' } }
 */
import type { BackendStat, GoferBackend } from './gofer-backend.js';

export interface ObjectTree {
  [name: string]: string | Uint8Array | ObjectTree | { $symlink: string };
}

type Node =
  | { kind: 'file'; data: Uint8Array }
  | { kind: 'symlink'; target: string }
  | { kind: 'directory'; children: Map<string, Node> };

function build(tree: ObjectTree, path: string): Node {
  const children = new Map<string, Node>();
  for (const [name, v] of Object.entries(tree)) {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new Error(`object tree: bad name ${JSON.stringify(name)} in ${path || '/'}`);
    }
    if (typeof v === 'string') children.set(name, { kind: 'file', data: Buffer.from(v) });
    else if (v instanceof Uint8Array) children.set(name, { kind: 'file', data: v });
    else if (typeof v === 'object' && v !== null && Object.keys(v).length === 1 && typeof (v as { $symlink?: unknown }).$symlink === 'string') {
      children.set(name, { kind: 'symlink', target: (v as { $symlink: string }).$symlink });
    } else if (typeof v === 'object' && v !== null) children.set(name, build(v as ObjectTree, `${path}/${name}`));
    else throw new Error(`object tree: ${path}/${name} is neither a file, a directory nor a symlink`);
  }
  return { kind: 'directory', children };
}

export class ObjectTreeBackend implements GoferBackend<Node> {
  private readonly top: Node;

  constructor(tree: ObjectTree) {
    this.top = build(tree, '');
  }

  root(): Node { return this.top; }

  lookup(dir: Node, name: string): Node | undefined {
    return dir.kind === 'directory' ? dir.children.get(name) : undefined;
  }

  stat(node: Node): BackendStat {
    switch (node.kind) {
      case 'file': return { type: 'file', size: node.data.byteLength };
      case 'symlink': return { type: 'symlink', size: Buffer.byteLength(node.target) };
      case 'directory': return { type: 'directory', size: 0 };
    }
  }

  readdir(dir: Node): string[] {
    return dir.kind === 'directory' ? [...dir.children.keys()] : [];
  }

  read(file: Node, offset: number, length: number): Uint8Array {
    return file.kind === 'file' ? file.data.subarray(offset, offset + length) : new Uint8Array(0);
  }

  readlink(link: Node): string {
    return link.kind === 'symlink' ? link.target : '';
  }
}

/** The factory a GoferActor calls: `options.tree` is the tree. */
export function createBackend(options: unknown): ObjectTreeBackend {
  const tree = (options as { tree?: unknown } | undefined)?.tree;
  if (typeof tree !== 'object' || tree === null) throw new Error('object tree backend: options.tree must be an object');
  return new ObjectTreeBackend(tree as ObjectTree);
}
