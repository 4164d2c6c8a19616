export { createSandbox, Sandbox, TRAP_EXIT_CODE } from './api/sandbox.js';
export type { SandboxOptions, SandboxStats, RunOptions, RunResult, SandboxEvent } from './api/sandbox.js';
export type { MountSpec } from './api/mount-spec.js';
export {
  ActorSandboxError, InvalidOptionError, MountError, ProgramError, ActorFailureError, SandboxClosedError,
  PrivilegeError,
} from './api/errors.js';
export type { ActorSandboxErrorCode } from './api/errors.js';
