import { HELD, type ServerRing } from '../../actors/ring-server.js';
import { ClockId, EVENTRWFLAG_HANGUP, EventType, R, SUBCLOCK_ABSTIME, SUBSCRIPTION_SIZE } from '../../wasi/abi.js';
import { Errno, SyscallError, fail } from '../../wasi/errno.js';
import type { Task } from '../task.js';
import { writeEvent, type PollEvent } from './encode.js';

/** Most subscriptions one poll may carry. */
const MAX_SUBSCRIPTIONS = 1024;

interface Subscription {
  userdata: bigint;
  tag: number;
  /** Clock: monotonic deadline in ns, or -1n for an invalid clock. */
  deadline: bigint;
  fd: number;
}

const NO_DEADLINE = 1n << 64n;

const monotonicNs = (): bigint => process.hrtime.bigint();

/**
 * poll_oneoff: answered at once when something is ready, otherwise held in the Sentry until a
 * clock expires or an fd becomes readable. The task parks; the kernel goes on serving others.
 */
export function pollOneoff(t: Task, r: ServerRing): number {
  const n = r.reader.u32();
  if (n === 0 || n > MAX_SUBSCRIPTIONS) fail(Errno.INVAL);
  const subs: Subscription[] = [];
  const start = monotonicNs();
  for (let i = 0; i < n; i++) subs.push(readSubscription(r, start));

  let timer: NodeJS.Timeout | undefined;
  let answered = false;
  const attempt = (): number => {
    const events = collect(t, subs);
    if (events.length === 0) return HELD;
    answered = true;
    for (const ev of events) writeEvent(r.writer, ev);
    return 0;
  };
  const first = attempt();
  if (first !== HELD) return first;

  let earliest = NO_DEADLINE;
  for (const s of subs) if (s.tag === EventType.CLOCK && s.deadline >= 0n && s.deadline < earliest) earliest = s.deadline;
  // setTimeout can fire a hair early against the monotonic clock: re-arm until the deadline has passed.
  const arm = (): void => {
    const remainingMs = Number(earliest - monotonicNs()) / 1e6;
    timer = setTimeout(() => { t.wake(); if (!answered) arm(); }, Math.max(0, Math.ceil(remainingMs)));
  };
  if (earliest !== NO_DEADLINE) arm();
  return t.hold(attempt, () => clearTimeout(timer));
}

function readSubscription(r: ServerRing, now: bigint): Subscription {
  const raw = r.reader;
  const at = raw.pos;
  if (raw.remaining < SUBSCRIPTION_SIZE) fail(Errno.INVAL);
  raw.pos += SUBSCRIPTION_SIZE;
  const v = new DataView(raw.window.buffer, raw.window.byteOffset + at, SUBSCRIPTION_SIZE);
  const userdata = v.getBigUint64(0, true);
  const tag = v.getUint8(8);
  if (tag === EventType.CLOCK) {
    const id = v.getUint32(16, true);
    const timeout = v.getBigUint64(24, true);
    const flags = v.getUint16(40, true);
    let deadline: bigint;
    if (id === ClockId.MONOTONIC) deadline = flags & SUBCLOCK_ABSTIME ? timeout : now + timeout;
    else if (id === ClockId.REALTIME) {
      deadline = flags & SUBCLOCK_ABSTIME ? now + (timeout - BigInt(Date.now()) * 1_000_000n) : now + timeout;
    } else deadline = -1n;
    return { userdata, tag, deadline, fd: -1 };
  }
  if (tag === EventType.FD_READ || tag === EventType.FD_WRITE) return { userdata, tag, deadline: 0n, fd: v.getUint32(16, true) };
  return fail(Errno.INVAL);
}


function collect(t: Task, subs: Subscription[]): PollEvent[] {
  const events: PollEvent[] = [];
  const now = monotonicNs();
  for (const s of subs) {
    if (s.tag === EventType.CLOCK) {
      if (s.deadline < 0n) events.push({ userdata: s.userdata, error: Errno.INVAL, type: s.tag, nbytes: 0n, flags: 0 });
      else if (now >= s.deadline) events.push({ userdata: s.userdata, error: 0, type: s.tag, nbytes: 0n, flags: 0 });
      continue;
    }
    let error = 0;
    try {
      const e = t.fds.need(s.fd, R.POLL_FD_READWRITE);
      if (s.tag === EventType.FD_WRITE) {
        events.push({ userdata: s.userdata, error: 0, type: s.tag, nbytes: 0n, flags: 0 });
        continue;
      }
      const ready = e.description.pollRead();
      if (ready.ready) {
        events.push({ userdata: s.userdata, error: 0, type: s.tag, nbytes: ready.nbytes, flags: ready.hangup ? EVENTRWFLAG_HANGUP : 0 });
      }
      continue;
    } catch (e) {
      error = e instanceof SyscallError ? e.errno : Errno.IO;
    }
    events.push({ userdata: s.userdata, error, type: s.tag, nbytes: 0n, flags: 0 });
  }
  return events;
}
