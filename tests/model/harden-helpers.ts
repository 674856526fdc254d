// Shared by the hardening tests (issue 10): a call that throws must throw the
// named error class, name the argument, and leave every model's whole saved
// state (weights, Adam moments and step, the three random streams, the step
// and epoch counters, the epoch cursor) bit-identical.
import { expect } from "vitest";
import type { VAE } from "../../src/index.js";

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** The error fn throws (or its promise rejects with), or undefined. */
export async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** fn throws an instance of `cls` whose message contains `name` (a string or
 *  every string of a list), and none of `models` changed. */
export async function expectThrows(fn: () => unknown, cls: new (...a: never[]) => Error, name: string | string[],
                                   models: VAE[] = []): Promise<Error> {
  const before = models.map((m) => m.save());
  const err = await thrown(fn);
  expect(err, `expected a ${cls.name} naming ${name}`).toBeInstanceOf(cls);
  const e = err as Error;
  expect(e.name).toBe(cls.name);
  for (const n of Array.isArray(name) ? name : [name]) expect(e.message).toContain(n);
  expect(e.message.length).toBeLessThan(2000);
  models.forEach((m, i) => expect(sameBytes(m.save(), before[i]), `model ${i} unchanged`).toBe(true));
  return e;
}
