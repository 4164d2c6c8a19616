import type { ObjectTree } from '../fs/gofer/object-tree-backend.js';
import type { BackendMountSpec } from './mount-spec.js';

/**
 * A read-only mount of a JS object tree (strings and Uint8Arrays are files, objects directories,
 * `{ $symlink: target }` symlinks), served by the shipped example gofer backend.
 */
export function objectTreeMount(guestPath: string, tree: ObjectTree): BackendMountSpec {
  return { guestPath, backend: { module: new URL('../fs/gofer/object-tree-backend.js', import.meta.url), options: { tree } } };
}
