// Keeps desired properties applied exactly once, in version order, across reconnects. The hub does not keep
// desired changes for a disconnected device, so after every (re)connect the client subscribes, GETs the whole
// twin, and only then trusts patches again. Until the GET answers, patches are held: one older than the GET is
// already contained in it; one newer is applied after it. Anything not newer than the last applied version is
// dropped, so a patch seen before a drop and again in the GET is never applied twice.
// Pure bookkeeping: the client feeds it what arrives and carries out the actions it returns.

import type { JsonObject } from '../azure/json';

export interface DesiredAction {
  /** The whole desired section (from a GET) or one patch. */
  patch: JsonObject;
  version: number;
  /** True when `patch` is the whole desired section from a GET rather than an incremental patch. */
  full: boolean;
}

export interface DesiredStep {
  apply: DesiredAction[];
  /** A version was skipped while connected (a patch was lost): the client should GET the twin again. */
  resync: boolean;
}

/** Patches kept while waiting for the GET; beyond it the oldest go (the GET covers them anyway). */
const DEFAULT_MAX_HELD = 32;

export class DesiredReconciler {
  private applied: number | undefined;
  private awaitingTwin = true;
  private held: Array<{ patch: JsonObject; version: number }> = [];

  constructor(private readonly maxHeld = DEFAULT_MAX_HELD) {}

  /** The version of the last desired state handed to the application, if any. */
  get lastApplied(): number | undefined {
    return this.applied;
  }

  /** True between a (re)connect and the first twin document received on it. */
  get waitingForTwin(): boolean {
    return this.awaitingTwin;
  }

  /** A new connection: hold patches until its GET answers. */
  onConnected(): void {
    this.awaitingTwin = true;
    this.held = [];
  }

  /** A desired patch arrived. */
  onPatch(patch: JsonObject, version: number): DesiredStep {
    if (this.awaitingTwin) {
      this.held.push({ patch, version });
      if (this.held.length > this.maxHeld) this.held.shift();
      return { apply: [], resync: false };
    }
    if (this.applied !== undefined && version <= this.applied) return { apply: [], resync: false };
    const resync = this.applied !== undefined && version > this.applied + 1;
    this.applied = version;
    return { apply: [{ patch, version, full: false }], resync };
  }

  /** A twin document arrived (the reconnect GET or any later one); its desired section is applied if newer. */
  onTwin(desired: JsonObject, version: number): DesiredStep {
    const apply: DesiredAction[] = [];
    if (this.applied === undefined || version > this.applied) {
      this.applied = version;
      apply.push({ patch: desired, version, full: true });
    }
    this.awaitingTwin = false;
    const held = this.held.sort((a, b) => a.version - b.version);
    this.held = [];
    let resync = false;
    for (const entry of held) {
      const last = this.applied as number;
      if (entry.version <= last) continue;
      if (entry.version > last + 1) resync = true;
      this.applied = entry.version;
      apply.push({ patch: entry.patch, version: entry.version, full: false });
    }
    return { apply, resync };
  }
}
