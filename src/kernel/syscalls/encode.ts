import type { FrameWriter } from '../../actors/frame.js';
import type { Stat } from '../../fs/vfs/filesystem.js';

// The preview1 structs a reply carries, laid out as the task copies them into guest memory.

/** Each filetype as a little-endian u64: its byte, then the seven bytes of padding after it. */
const FILETYPE_WORDS: readonly bigint[] = Array.from({ length: 256 }, (_, t) => BigInt(t));

/** A `filestat` (64 bytes). */
export function writeFilestat(w: FrameWriter, st: Stat): void {
  // The filetype and its padding go as one aligned word: a u8 and a 7-byte fill cost two calls more.
  w.u64(st.dev).u64(st.ino).u64(FILETYPE_WORDS[st.type]!).u64(st.nlink).u64(st.size).u64(st.atim).u64(st.mtim).u64(st.ctim);
}

/** One poll_oneoff result. */
export interface PollEvent { userdata: bigint; error: number; type: number; nbytes: bigint; flags: number }

/** An `event` (32 bytes). */
export function writeEvent(w: FrameWriter, ev: PollEvent): void {
  w.u64(ev.userdata).u16(ev.error).u8(ev.type).zeros(5).u64(ev.nbytes).u16(ev.flags).zeros(6);
}
