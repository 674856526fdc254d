// Settings of a layer entry: the Keras / TensorFlow.js spellings a user may
// type for ours (kernelSize for kernel, strides for stride), renamed before a
// kind checks its settings; an entry with both spellings is refused by name.
// Not here: the activation's synonym ("linear" for "identity": model/config.ts,
// which handles every layer's activation).
import { fail } from "../base/validate.js";

/** The entry with each synonym renamed to ours (synonyms: theirs → ours).
 *  Throws an ArgumentError naming `${at}.${theirs}` when both are given. */
export function renameSynonyms(e: Record<string, unknown>, at: string, synonyms: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v === undefined) continue;
    const ours = Object.prototype.hasOwnProperty.call(synonyms, k) ? synonyms[k] : k;
    if (ours !== k && e[ours] !== undefined) fail(`${at}.${k}`, `either ${ours} or ${k} (the Keras spelling of the same setting), not both`, v);
    out[ours] = v;
  }
  return out;
}
