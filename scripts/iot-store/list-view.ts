// What `iot-store list` prints: configuration, assignment and tags, with lengths and fingerprints only.
import type { AssignmentLoad } from '../../src/storage/assignment-store';
import { changedInputs } from '../../src/storage/assignment-store';
import type { DeviceConfigLoad } from '../../src/storage/device-config';
import type { TagSummary } from '../../src/storage/security-tag-store';

export interface StoreView {
  store: string;
  config: DeviceConfigLoad;
  assignment: AssignmentLoad;
  tags: TagSummary[];
}

export function viewAsJson(view: StoreView): string {
  const assignment =
    view.assignment.status === 'assigned'
      ? { ...view.assignment.assignment, stale: staleness(view) ?? false }
      : view.assignment.code === 'missing'
        ? null
        : { unreadable: view.assignment.message };
  const config = view.config.ok ? view.config.value : view.config.error.code === 'missing' ? null : { unreadable: view.config.error.message };
  return JSON.stringify({ store: view.store, config, assignment, tags: view.tags }, null, 2);
}

export function viewAsText(view: StoreView): string {
  const lines = [`store ${view.store}`];
  if (view.config.ok) {
    const { hub, dps, tags, trust } = view.config.value;
    lines.push('config');
    if (hub) {
      let line = `  hub         ${hub.hostName} device ${hub.deviceId}`;
      if (hub.moduleId) line += ` module ${hub.moduleId}`;
      if (hub.gatewayHostName) line += ` via ${hub.gatewayHostName}`;
      lines.push(`${line} (${hub.auth})`);
    }
    if (dps) lines.push(`  dps         ${dps.globalEndpoint} scope ${dps.idScope} registration ${dps.registrationId} (${dps.attestation})`);
    lines.push(`  tags        primary ${tags.primary}, secondary ${tags.secondary ?? 'none'}`);
    lines.push(`  trust       ${trust} the default roots`);
  } else {
    lines.push(view.config.error.code === 'missing' ? 'config      none' : `config      unreadable: ${view.config.error.message}`);
  }
  if (view.assignment.status === 'assigned') {
    const a = view.assignment.assignment;
    let line = `assignment  ${a.hubHost} device ${a.deviceId}`;
    if (a.assignedAt !== undefined) line += ` at ${new Date(a.assignedAt).toISOString()}`;
    if (a.substatus) line += ` (${a.substatus})`;
    const stale = staleness(view);
    if (stale) line += ` [stale: ${stale}]`;
    lines.push(line);
  } else {
    lines.push(view.assignment.code === 'missing' ? 'assignment  none' : `assignment  unreadable: ${view.assignment.message}`);
  }
  if (view.tags.length === 0) lines.push('tags        none');
  for (const tag of view.tags) {
    if ('fault' in tag) {
      lines.push(`tag ${tag.tag}      unreadable: ${tag.fault.message}`);
      continue;
    }
    lines.push(`tag ${tag.tag}`);
    for (const part of tag.parts) {
      const list = part.part === 'caCertificates' || part.part === 'clientCertificates';
      let line = `  ${list ? `${part.part}[${part.index}]` : part.part}`.padEnd(26) + `${part.length} bytes  sha256 ${part.fingerprint}${list ? '' : '…'}`;
      if (part.subjectCN !== undefined) line += `  CN=${part.subjectCN}`;
      if (part.notAfterMs !== undefined) line += `  until ${new Date(part.notAfterMs).toISOString().slice(0, 10)}`;
      lines.push(line);
    }
  }
  return lines.join('\n');
}

/** Why the stored assignment will be ignored at boot, if it will. */
function staleness(view: StoreView): string | undefined {
  if (view.assignment.status !== 'assigned') return undefined;
  const dps = view.config.ok ? view.config.value.dps : undefined;
  if (!dps) return 'no DPS configuration';
  const changed = changedInputs(view.assignment.assignment.dps, dps);
  return changed.length > 0 ? `DPS ${changed.join(', ')} changed` : undefined;
}
