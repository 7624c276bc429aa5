// Device and module twins: desired and reported documents, each with its own `$version`, validated the way
// the hub validates them (depth, key characters, sizes). Patches merge; `null` deletes a key.
import { existsSync, readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type JsonObject = { [key: string]: unknown };

export interface Twin {
  deviceId: string;
  moduleId?: string;
  desired: JsonObject & { $version: number };
  reported: JsonObject & { $version: number };
}

interface StoredTwin {
  desired: JsonObject;
  reported: JsonObject;
  desiredVersion: number;
  reportedVersion: number;
}

export type PatchOutcome = { status: 204; version: number } | { status: 400 | 413; message: string };

export const TWIN_SECTION_LIMIT = 32 * 1024;
const MAX_DEPTH = 10;
const MAX_KEY_BYTES = 1024;
const MAX_STRING_BYTES = 4 * 1024;

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Why `value` is not an acceptable twin patch, or undefined when it is. */
export function validatePatch(value: unknown, depth = 1): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'a patch must be a JSON object';
  if (depth > MAX_DEPTH) return `nesting deeper than ${MAX_DEPTH} levels`;
  for (const [key, child] of Object.entries(value)) {
    if (key.length === 0) return 'empty key';
    if (utf8Length(key) > MAX_KEY_BYTES) return 'key longer than 1 KB';
    // eslint-disable-next-line no-control-regex
    if (/[.$ \u0000-\u001f\u007f-\u009f]/.test(key)) return `key "${key.slice(0, 64)}" contains . $ space or a control character`;
    if (typeof child === 'string' && utf8Length(child) > MAX_STRING_BYTES) return `value of "${key.slice(0, 64)}" longer than 4 KB`;
    if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
      const inner = validatePatch(child, depth + 1);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Merges `patch` into `target` in place: objects merge, `null` deletes, anything else replaces. */
export function mergePatch(target: JsonObject, patch: JsonObject): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      const existing = target[key];
      const base: JsonObject = existing !== null && typeof existing === 'object' && !Array.isArray(existing) ? (existing as JsonObject) : {};
      mergePatch(base, value as JsonObject);
      target[key] = base;
    } else {
      target[key] = structuredClone(value);
    }
  }
}

function splitKey(key: string): { deviceId: string; moduleId?: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { deviceId: key } : { deviceId: key.slice(0, slash), moduleId: key.slice(slash + 1) };
}

export class TwinStore {
  private readonly twins = new Map<string, StoredTwin>();

  constructor(private readonly stateDir?: string) {
    if (stateDir && existsSync(join(stateDir, 'twins.json'))) {
      try {
        const saved = JSON.parse(readFileSync(join(stateDir, 'twins.json'), 'utf8')) as Record<string, StoredTwin>;
        for (const [key, twin] of Object.entries(saved)) this.twins.set(key, twin);
      } catch {
        // A hand-edited file that no longer parses starts the twins afresh rather than stopping the emulator.
      }
    }
  }

  private entry(key: string): StoredTwin {
    let twin = this.twins.get(key);
    if (!twin) {
      twin = { desired: {}, reported: {}, desiredVersion: 1, reportedVersion: 1 };
      this.twins.set(key, twin);
    }
    return twin;
  }

  /** The whole twin of an identity key (`d1` or `d1/m1`); a fresh twin has both versions at 1. */
  get(key: string): Twin {
    const twin = this.entry(key);
    return {
      ...splitKey(key),
      desired: { ...structuredClone(twin.desired), $version: twin.desiredVersion },
      reported: { ...structuredClone(twin.reported), $version: twin.reportedVersion },
    };
  }

  /** The GET response body the device receives. */
  documentJson(key: string): string {
    const twin = this.get(key);
    return JSON.stringify({ desired: twin.desired, reported: twin.reported });
  }

  /** Applies a device's reported patch (raw body): 204 with the new version, 400 bad JSON, 413 too large. */
  patchReported(key: string, body: Uint8Array): PatchOutcome {
    if (body.length > TWIN_SECTION_LIMIT) return { status: 413, message: `reported patch is over ${TWIN_SECTION_LIMIT} bytes` };
    let patch: unknown;
    try {
      patch = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
    } catch {
      return { status: 400, message: 'reported patch is not valid UTF-8 JSON' };
    }
    const invalid = validatePatch(patch);
    if (invalid) return { status: 400, message: invalid };
    const twin = this.entry(key);
    const merged = structuredClone(twin.reported);
    mergePatch(merged, patch as JsonObject);
    if (utf8Length(JSON.stringify(merged)) > TWIN_SECTION_LIMIT) {
      return { status: 413, message: `reported properties would exceed ${TWIN_SECTION_LIMIT} bytes` };
    }
    twin.reported = merged;
    twin.reportedVersion++;
    this.save();
    return { status: 204, version: twin.reportedVersion };
  }

  /** Applies a service-side desired patch; throws a RangeError naming the problem. Returns the new version. */
  patchDesired(key: string, patch: JsonObject): number {
    const invalid = validatePatch(patch);
    if (invalid) throw new RangeError(`desired patch refused: ${invalid}`);
    const twin = this.entry(key);
    const merged = structuredClone(twin.desired);
    mergePatch(merged, patch);
    if (utf8Length(JSON.stringify(merged)) > TWIN_SECTION_LIMIT) {
      throw new RangeError(`desired properties would exceed ${TWIN_SECTION_LIMIT} bytes`);
    }
    twin.desired = merged;
    twin.desiredVersion++;
    this.save();
    return twin.desiredVersion;
  }

  delete(key: string): void {
    if (this.twins.delete(key)) this.save();
  }

  private save(): void {
    if (!this.stateDir) return;
    mkdirSync(this.stateDir, { recursive: true });
    const target = join(this.stateDir, 'twins.json');
    writeFileSync(`${target}.tmp`, JSON.stringify(Object.fromEntries(this.twins), null, 2) + '\n');
    renameSync(`${target}.tmp`, target);
  }
}
