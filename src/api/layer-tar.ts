/**
 * Writes a sandbox's upper layer as an OCI image layer tarball (image-spec layer.md): deletions
 * as empty `.wh.NAME` files, an opaque directory as `.wh..wh..opq`, hard links as link entries.
 * tar-stream does the format (ustar, with PAX headers for long names and big files) so we don't
 * hand-write headers and checksums.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { LayerEntry } from '../fs/overlay/overlay-changes.js';

/**
 * Xattrs as PAX `SCHILY.xattr.NAME` records (GNU tar's and the OCI tools' form). PAX values are
 * UTF-8 text here, so a value that is not valid UTF-8 is left out rather than written mangled.
 */
function paxXattrs(xattrs: ReadonlyMap<string, string | Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of xattrs) {
    const text = typeof value === 'string' ? value : utf8(value);
    if (text !== undefined) out[`SCHILY.xattr.${name}`] = text;
  }
  return out;
}

function utf8(bytes: Uint8Array): string | undefined {
  try { return new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { return undefined; }
}

/** Writes `entries` as a tar file at `path` (replacing it). */
export async function writeLayerTar(entries: readonly LayerEntry[], path: string): Promise<void> {
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(path));
  for (const e of entries) {
    const header = {
      name: e.type === 'dir' ? `${e.path}/` : e.path,
      mode: e.mode, uid: e.uid, gid: e.gid,
      mtime: new Date(Number(e.mtimeNs / 1_000_000n)),
      ...(e.xattrs ? { pax: paxXattrs(e.xattrs) } : {}),
    };
    switch (e.type) {
      case 'dir': pack.entry({ ...header, type: 'directory' }); break;
      case 'symlink': pack.entry({ ...header, type: 'symlink', linkname: e.target! }); break;
      case 'hardlink': pack.entry({ ...header, type: 'link', linkname: e.target! }); break;
      case 'file': pack.entry({ ...header, type: 'file' }, Buffer.from(e.data!.buffer, e.data!.byteOffset, e.data!.byteLength)); break;
      case 'whiteout': case 'opaque': pack.entry({ ...header, type: 'file' }, Buffer.alloc(0)); break;
    }
  }
  pack.finalize();
  await written;
}
