/**
 * Shared file mappings through koffi (mmap/munmap), for the overlay's filestore: the Sentry keeps
 * file data in pages of a host file instead of the JS heap, and reads and writes them as a
 * Uint8Array over the mapping (`koffi.view`). Touching a mapped page past the file's allocated
 * blocks would raise SIGBUS on a full disk, so callers fallocate a range before they use it.
 */
import koffi from 'koffi';
import { errnoFromLinux, fail } from '../wasi/errno.js';

const libc = koffi.load('libc.so.6');
const c = {
  mmap: libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)'),
  munmap: libc.func('int munmap(void *addr, size_t len)'),
};

const PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/** A MAP_SHARED read-write mapping of a file; `bytes` is valid until `unmap()`. */
export interface SharedMapping {
  readonly bytes: Uint8Array;
  unmap(): void;
}

/**
 * Maps `length` bytes of `fd` from offset 0. The length may exceed the file: the address range is
 * reserved now and becomes usable as the file is allocated.
 */
export function mapShared(fd: number, length: number): SharedMapping {
  const ptr: unknown = c.mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (ptr === null || koffi.address(ptr) === MAP_FAILED) fail(errnoFromLinux(koffi.errno()));
  let bytes: Uint8Array | undefined = new Uint8Array(koffi.view(ptr, length));
  return {
    get bytes(): Uint8Array {
      if (bytes === undefined) throw new Error('mapping used after unmap');
      return bytes;
    },
    unmap() {
      if (bytes === undefined) return;
      bytes = undefined;
      c.munmap(ptr, length);
    },
  };
}
