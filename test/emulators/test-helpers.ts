// What the emulator suites share when driving clients at an emulator, so each suite reads as its
// scenarios rather than repeating the same try/catch and abort plumbing.
import { expect } from 'vitest';
import type { RecordedBase } from './loopback-server.js';

/** The error `p` rejects with; a call that was meant to fail but succeeds fails the test. */
export async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

/** The request an emulator recorded last; throws rather than returning `undefined`, so tests need no `!`. */
export function lastRequest<Rec extends RecordedBase>(emu: { readonly requests: readonly Rec[] }): Rec {
  const rec = emu.requests[emu.requests.length - 1];
  if (!rec) throw new Error('no request recorded');
  return rec;
}

/** The event types a stream delivered, aborting through `ac` once `at` arrives, as a user cancelling mid-answer does. */
export async function typesUntilAbort(stream: AsyncIterable<{ type: string }>, ac: AbortController, at: string): Promise<string[]> {
  const types: string[] = [];
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === at) ac.abort();
  }
  return types;
}

/** Waits for the exchange to end, then checks the emulator saw the client leave before the answer was complete. */
export async function expectClientAborted(rec: RecordedBase): Promise<void> {
  await rec.done;
  expect(rec.aborted).toBe(true);
}
