import type { FrameWriter } from '../../actors/frame.js';
import type { Stat } from '../../fs/vfs/filesystem.js';
import { FILESTAT_SIZE } from '../../wasi/abi.js';

/** Writes a preview1 `filestat` (64 bytes) into the reply, ready for the task to copy. */
export function writeFilestat(w: FrameWriter, st: Stat): void {
  const at = w.reserve(FILESTAT_SIZE);
  const v = new DataView(w.window.buffer, w.window.byteOffset + at, FILESTAT_SIZE);
  v.setBigUint64(0, st.dev, true);
  v.setBigUint64(8, st.ino, true);
  v.setUint8(16, st.type);
  for (let i = 17; i < 24; i++) v.setUint8(i, 0);
  v.setBigUint64(24, st.nlink, true);
  v.setBigUint64(32, st.size, true);
  v.setBigUint64(40, st.atim, true);
  v.setBigUint64(48, st.mtim, true);
  v.setBigUint64(56, st.ctim, true);
}
