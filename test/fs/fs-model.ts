// A model to hold a filesystem against: the same random operations applied through our
// VirtualFilesystem (on the filesystem under test) and with node:fs on a plain Linux directory,
// compared errno by errno and tree by tree. Shared by the property tests of the overlay
// (test/fs/overlay) and of goferfs (test/fs/gofer). fast-check generates the sequences and shrinks
// a failing one to a minimal sequence; we use it rather than hand-rolling generators and shrinking.
// The parts are in test/fs/model: the seed tree, the operations, the two runners (node:fs and the
// VFS), the tree states compared, and the sequence that ties them together.
// On failure the report shows the shrunk sequence as generated (`#k`: the k-th path that exists
// then, `gone#k`: one that existed earlier) and as it ran, with concrete paths.
//
// What is compared, and what is left out on purpose (legitimate differences, not bugs):
//  - names, types, contents and sizes of non-directories, symlink targets, permission bits.
//    Directory sizes are not compared: each filesystem reports its own (ext4 allocated bytes,
//    Linux tmpfs a multiple of 20, our tmpfs the number of entries).
//  - link counts of non-directories. Directory link counts are not: a merged directory counts only
//    the subdirectories its upper holds (Linux overlayfs reports 1 for merged directories).
//  - inode numbers only as an equivalence: two names share an inode on one side iff they do on the
//    other. The numbers themselves differ by construction (the overlay hands out its own).
//  - mtimes that were set explicitly: the seed tree's (all fixed old values, so an overlay's copy-up
//    must keep them and must not move a parent's), utimes's, and any that an operation must leave alone. An
//    mtime an operation set to "now" is each side's own clock, so an mtime is compared where
//    either side shows an old one (before CUTOFF). atime and ctime are never compared: every read
//    and readdir moves atime (and the host may mount relatime), ctime follows metadata the two
//    sides keep differently (xattrs, copy-up) and no call sets it.
//  - symlink targets are relative and never contain `..`: WASI's capability rule makes a walk that
//    climbs above the root ENOTCAPABLE where Linux would leave the host copy (and touch paths
//    outside the temp directory). Absolute targets are refused by the VFS for the same reason.
//  - chmod keeps the owner's rwx bits and sets no setuid/setgid/sticky bit: the sandbox checks no
//    permissions (and this test may run as root, which bypasses them), and a setgid directory
//    makes Linux give new subdirectories setgid too, a rule the sandbox has no use for.
export { SEED_TREE, OLD_BASE_S, buildTree, buildTreeThrough, assertSeedTree, type TreeEntry } from './model/seed-tree.js';
export { opArb, outsideArb, show, concrete, existingPaths, rmtreePlan, type Op, type PathSpec } from './model/operations.js';
export { errnoName } from './model/runners.js';
export { TYPE_NAMES, fsState, hostState, sameStates, type State } from './model/tree-state.js';
export { MAX_OPS, holdsFor, runSequence, scratchDir, type Sequence } from './model/sequence.js';
