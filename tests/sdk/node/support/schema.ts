// The VISS v3.0 message schema (shared/schemas/viss-v3-messages.schema.json) with the
// repository's overlay (schemas/viss-v3-messages.overlay.json: JSON-pointer patches) applied,
// compiled with Ajv for draft 2020-12.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020Module from "ajv/dist/2020.js";
import type { ValidateFunction } from "ajv";
import { repoRoot, sharedDir } from "./env.js";

// ajv is CommonJS: under NodeNext the default import is its module.exports, whose
// `default` member is the class.
const Ajv2020 = Ajv2020Module.default;

interface Patch {
  pointer: string;
  value: unknown;
}

/** RFC 6901: "/a/b~1c" -> ["a", "b/c"]. */
function tokens(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`not a JSON pointer: ${pointer}`);
  return pointer.slice(1).split("/").map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Replaces the value at `pointer`; the parent must exist (as the generator requires too). */
export function applyPatch(document: unknown, patch: Patch): void {
  const path = tokens(patch.pointer);
  const last = path.pop();
  if (last === undefined) throw new Error("cannot replace the whole document");
  let node: unknown = document;
  for (const token of path) {
    if (typeof node !== "object" || node === null || !(token in node)) {
      throw new Error(`overlay pointer ${patch.pointer} does not resolve (at ${token})`);
    }
    node = (node as Record<string, unknown>)[token];
  }
  if (typeof node !== "object" || node === null || !(last in node)) {
    throw new Error(`overlay pointer ${patch.pointer} does not resolve (at ${last})`);
  }
  (node as Record<string, unknown>)[last] = patch.value;
}

export function loadSchema(withOverlay: boolean): unknown {
  const schema: unknown = JSON.parse(readFileSync(join(sharedDir(), "schemas", "viss-v3-messages.schema.json"), "utf8"));
  if (withOverlay) {
    const overlay = JSON.parse(readFileSync(join(repoRoot(), "schemas", "viss-v3-messages.overlay.json"), "utf8")) as { patches: Patch[] };
    if (overlay.patches.length === 0) throw new Error("the overlay has no patches");
    for (const patch of overlay.patches) applyPatch(schema, patch);
  }
  return schema;
}

const compiled = new Map<boolean, ValidateFunction>();

/** The compiled validator (cached); `withOverlay` false = the schema as published. */
export function validator(withOverlay = true): ValidateFunction {
  let validate = compiled.get(withOverlay);
  if (validate === undefined) {
    // strict: false because the published schema has keywords Ajv's strict mode rejects
    // (minItems on an object schema, the overlay's "why" is not part of it).
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    validate = ajv.compile(loadSchema(withOverlay) as object);
    compiled.set(withOverlay, validate);
  }
  return validate;
}

/** undefined when valid, else Ajv's error text. */
export function schemaErrors(message: unknown, withOverlay = true): string | undefined {
  const validate = validator(withOverlay);
  if (validate(message)) return undefined;
  return (validate.errors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? ""}`).join("; ");
}
