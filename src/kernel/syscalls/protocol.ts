/**
 * The task ⇄ Sentry wire protocol: one request code per WASI call that needs the kernel, with the
 * request and reply layouts beside it. The task owns guest memory: it bound-checks every guest
 * pointer (EFAULT), copies what the call needs into the ring, and writes the reply back. The Sentry
 * never sees guest memory, and treats every field as hostile: a short or lying frame is EINVAL.
 *
 * Reply CODE: 0 or a WASI errno. Fields: u8/u32/u64 little-endian; `bytes` = u32 length + data;
 * `filestat` = the 64-byte preview1 struct, ready to copy into guest memory.
 *
 * Calls that stay in the task (pure and local): args_*, environ_*, clock_*, random_get,
 * sched_yield, proc_raise.
 */
export const enum Sys {
  /** () → (): the null syscall, for measuring the ring. */
  NULL = 0,
  /** fd, offset u64, len u64, advice u8 → () */
  FD_ADVISE = 1,
  /** fd, offset u64, len u64 → () */
  FD_ALLOCATE = 2,
  /** fd → () */
  FD_CLOSE = 3,
  /** fd → () */
  FD_DATASYNC = 4,
  /** fd → filetype u8, fdflags u16, rights_base u64, rights_inheriting u64 */
  FD_FDSTAT_GET = 5,
  /** fd, fdflags u16 → () */
  FD_FDSTAT_SET_FLAGS = 6,
  /** fd, base u64, inheriting u64 → () */
  FD_FDSTAT_SET_RIGHTS = 7,
  /** fd → filestat */
  FD_FILESTAT_GET = 8,
  /** fd, size u64 → () */
  FD_FILESTAT_SET_SIZE = 9,
  /** fd, atim u64, mtim u64, fstflags u16 → () */
  FD_FILESTAT_SET_TIMES = 10,
  /** fd, len u32, offset u64 → bytes */
  FD_PREAD = 11,
  /** fd → tag u8, name_len u32 */
  FD_PRESTAT_GET = 12,
  /** fd → bytes (the name) */
  FD_PRESTAT_DIR_NAME = 13,
  /** fd, offset u64, bytes → nwritten u32 */
  FD_PWRITE = 14,
  /** fd, len u32 → bytes, more u8 (1: a regular file that may have more right now) */
  FD_READ = 15,
  /** fd, buf_len u32, cookie u64 → bytes (preview1 dirents, cut at buf_len) */
  FD_READDIR = 16,
  /** from, to → () */
  FD_RENUMBER = 17,
  /** fd, offset i64, whence u8 → newoffset u64 */
  FD_SEEK = 18,
  /** fd → () */
  FD_SYNC = 19,
  /** fd → offset u64 */
  FD_TELL = 20,
  /** fd, bytes → nwritten u32 */
  FD_WRITE = 21,
  /** fd, path → () */
  PATH_CREATE_DIRECTORY = 22,
  /** fd, lookupflags u32, path → filestat */
  PATH_FILESTAT_GET = 23,
  /** fd, lookupflags u32, path, atim u64, mtim u64, fstflags u16 → () */
  PATH_FILESTAT_SET_TIMES = 24,
  /** old_fd, old_flags u32, old_path, new_fd, new_path → () */
  PATH_LINK = 25,
  /** fd, dirflags u32, path, oflags u16, base u64, inheriting u64, fdflags u16 → fd u32 */
  PATH_OPEN = 26,
  /** fd, path, buf_len u32 → bytes (cut at buf_len) */
  PATH_READLINK = 27,
  /** fd, path → () */
  PATH_REMOVE_DIRECTORY = 28,
  /** fd, old_path, new_fd, new_path → () */
  PATH_RENAME = 29,
  /** old_path (the target), fd, new_path → () */
  PATH_SYMLINK = 30,
  /** fd, path → () */
  PATH_UNLINK_FILE = 31,
  /** n u32, n × 48-byte subscriptions → n' × 32-byte events */
  POLL_ONEOFF = 32,
  /** code u32 → (): the task is ending; the Sentry records the status. */
  PROC_EXIT = 33,
  /** fd, fdflags u16 → fd u32 */
  SOCK_ACCEPT = 34,
  /** fd, len u32, riflags u16 → bytes, roflags u16 */
  SOCK_RECV = 35,
  /** fd, bytes, siflags u16 → nwritten u32 */
  SOCK_SEND = 36,
  /** fd, sdflags u8 → () */
  SOCK_SHUTDOWN = 37,
}

export const SYS_COUNT = 38;

/** Human names of the codes, for syscall counts in results and traces. */
export const SYS_NAMES: readonly string[] = [
  'null', 'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get',
  'fd_fdstat_set_flags', 'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size',
  'fd_filestat_set_times', 'fd_pread', 'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite',
  'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek', 'fd_sync', 'fd_tell', 'fd_write',
  'path_create_directory', 'path_filestat_get', 'path_filestat_set_times', 'path_link', 'path_open',
  'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink', 'path_unlink_file',
  'poll_oneoff', 'proc_exit', 'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
];

/** Bytes a request or reply header may take beyond its data, so data chunks leave room for it. */
export const FRAME_SLACK = 64;
