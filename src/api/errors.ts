/**
 * API errors: one base class, a subclass per kind, each with a stable `code`. Guests never see
 * these; they see WASI errnos.
 */
export type ActorSandboxErrorCode =
  | 'ASB_ERR_INVALID_OPTION'
  | 'ASB_ERR_MOUNT'
  | 'ASB_ERR_PROGRAM'
  | 'ASB_ERR_LINK'
  | 'ASB_ERR_KERNEL_GONE'
  | 'ASB_ERR_ACTOR_START'
  | 'ASB_ERR_HOST_GONE'
  | 'ASB_ERR_PRIVILEGE'
  | 'ASB_ERR_CLOSED'
  | 'ASB_ERR_NO_OVERLAY';

export class ActorSandboxError extends Error {
  override name = 'ActorSandboxError';
  constructor(readonly code: ActorSandboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A sandbox or run option is malformed. */
export class InvalidOptionError extends ActorSandboxError {
  override name = 'InvalidOptionError';
  constructor(message: string) { super('ASB_ERR_INVALID_OPTION', message); }
}

/** A mount cannot be set up (missing host directory, bad guest path, clash). */
export class MountError extends ActorSandboxError {
  override name = 'MountError';
  constructor(message: string, readonly hostPath?: string) { super('ASB_ERR_MOUNT', message); }
}

/** The program cannot be loaded: unreadable, not WebAssembly, or not a WASI command. */
export class ProgramError extends ActorSandboxError {
  override name = 'ProgramError';
  constructor(code: 'ASB_ERR_PROGRAM' | 'ASB_ERR_LINK', message: string, options?: { cause?: unknown }) { super(code, message, options); }
}

/** An actor of the sandbox failed to start or died; the sandbox cannot go on. */
export class ActorFailureError extends ActorSandboxError {
  override name = 'ActorFailureError';
  constructor(code: 'ASB_ERR_KERNEL_GONE' | 'ASB_ERR_ACTOR_START' | 'ASB_ERR_HOST_GONE', message: string, readonly actor: string) { super(code, message); }
}

/**
 * The machine does not let the host actor build the sandbox's mount namespace: neither
 * CAP_SYS_ADMIN nor unprivileged user namespaces. The message names both ways out.
 */
export class PrivilegeError extends ActorSandboxError {
  override name = 'PrivilegeError';
  constructor(message: string) { super('ASB_ERR_PRIVILEGE', message); }
}

/** The sandbox was closed. */
export class SandboxClosedError extends ActorSandboxError {
  override name = 'SandboxClosedError';
  constructor() { super('ASB_ERR_CLOSED', 'the sandbox is closed'); }
}

/** The call needs a rootfs overlay (a rootfs, not read-only, with an overlay medium other than none). */
export class NoOverlayError extends ActorSandboxError {
  override name = 'NoOverlayError';
  constructor(what: string) { super('ASB_ERR_NO_OVERLAY', `${what} needs a rootfs with an overlay (rootfs given, not read-only, overlay not 'none')`); }
}
