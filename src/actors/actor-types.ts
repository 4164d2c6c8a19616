/** Every actor's life, as events on its supervisor's stream. */
export type ActorEvent =
  | { readonly type: 'started'; readonly actor: string }
  | { readonly type: 'stopped'; readonly actor: string }
  | { readonly type: 'died'; readonly actor: string; readonly error: string; readonly exitCode: number };

/** The control surface every actor exposes over comlink. */
export interface ActorControl {
  stats(): unknown;
  /** An actor whose worker may serve another owner answers whether it released everything. */
  stop(): Promise<void | boolean>;
}
