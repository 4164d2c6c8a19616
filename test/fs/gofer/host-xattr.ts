// Test-side xattr calls on host paths (the test plays the host, so path strings are fine here;
// the gofer itself never takes one). Through koffi, so no `attr` package is needed.
import koffi from 'koffi';
import { lastErrno } from '../../../src/host/libc.js';

const libc = koffi.load('libc.so.6');
const c = {
  lsetxattr: libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
  llistxattr: libc.func('intptr_t llistxattr(const char *path, void *list, size_t size)'),
  lgetxattr: libc.func('intptr_t lgetxattr(const char *path, const char *name, void *value, size_t size)'),
};

/** Sets xattr `name` of the file at `path` (not following a final symlink); throws with the Linux errno. */
export function setHostXattr(path: string, name: string, value: string | Uint8Array): void {
  const v = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value);
  if ((c.lsetxattr(path, name, v, v.byteLength, 0) as number) < 0) throw new Error(`lsetxattr ${path} ${name}: errno ${lastErrno()}`);
}

/** Every xattr of `path`, values as hex, for comparing before and after. */
export function hostXattrs(path: string): Record<string, string> {
  const list = Buffer.alloc(65536);
  const n = Number(c.llistxattr(path, list, list.byteLength));
  if (n < 0) throw new Error(`llistxattr ${path}: errno ${lastErrno()}`);
  const out: Record<string, string> = {};
  for (const name of list.toString('utf8', 0, n).split('\0').filter(Boolean)) {
    const v = Buffer.alloc(65536);
    const m = Number(c.lgetxattr(path, name, v, v.byteLength));
    if (m < 0) throw new Error(`lgetxattr ${path} ${name}: errno ${lastErrno()}`);
    out[name] = v.toString('hex', 0, m);
  }
  return out;
}
