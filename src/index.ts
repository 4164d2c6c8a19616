export { createSandbox, Sandbox, TRAP_EXIT_CODE } from './api/sandbox.js';
export type { SandboxOptions, SandboxStats, RunOptions, RunResult, SandboxEvent } from './api/sandbox.js';
export type { MountSpec, BackendMountSpec, RootfsSpec, OverlayMedium } from './api/mount-spec.js';
export type { UpperChange, ChangeKind } from './fs/overlay/overlay-changes.js';
export { objectTreeMount } from './api/object-tree-mount.js';
export type { ObjectTree } from './fs/gofer/object-tree-backend.js';
export type { GoferBackend, GoferBackendFactory, GoferBackendModule, BackendStat } from './fs/gofer/gofer-backend.js';
export {
  ActorSandboxError, InvalidOptionError, MountError, ProgramError, ActorFailureError, SandboxClosedError, NoOverlayError,
  PrivilegeError,
} from './api/errors.js';
export type { ActorSandboxErrorCode } from './api/errors.js';
