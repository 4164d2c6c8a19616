import { parentPort } from 'node:worker_threads';
import type { TransferListItem, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
// comlink ships its Node adapter as a bare .mjs without typings NodeNext can resolve.
// @ts-expect-error untyped module; its shape is asserted below
import nodeEndpointUntyped from 'comlink/dist/esm/node-adapter.mjs';

type NodeEndpointFn = (nep: Worker | NonNullable<typeof parentPort>) => Comlink.Endpoint;
const nodeEndpoint = nodeEndpointUntyped as NodeEndpointFn;

/**
 * Control plane: comlink over a worker's message port. Start, stop and stats only; the syscall
 * path never goes through here (a postMessage round trip costs ~60 µs, a ring hop ~0.3 µs).
 */
export function exposeControl(api: object): void {
  if (!parentPort) throw new Error('exposeControl must run inside a worker thread');
  Comlink.expose(api, nodeEndpoint(parentPort));
}

export function wrapControl<T>(worker: Worker): Comlink.Remote<T> {
  return Comlink.wrap<T>(nodeEndpoint(worker));
}

export function releaseControl<T>(remote: Comlink.Remote<T>): void {
  remote[Comlink.releaseProxy]();
}

/** Marks `value` so a control call moves `transfer` (e.g. a MessagePort) instead of copying it. */
export function transferring<T>(value: T, transfer: TransferListItem[]): T {
  // comlink types its list with the DOM's Transferable; Node's postMessage takes these.
  return Comlink.transfer(value, transfer as unknown as Parameters<typeof Comlink.transfer>[1]);
}

export type { Remote } from 'comlink';
