// The DPS subcommands of the emulator CLI, as functions with no I/O of their own: argv in, a typed command
// out (parseDpsCommand), then the command run against an enrollment control (runDpsCommand) returning the
// text to print. The control is a DpsServer's `enrollments` in-process, or anything with the same methods
// (an HTTP client of a running emulator, for example); files are read through the injected `readTextFile`.
import { generateSymmetricKey } from '../registry';
import { deriveDeviceKey } from './enrollment-store';
import type {
  EnrollmentBehaviour,
  GroupEnrollment,
  GroupEnrollmentInput,
  IndividualEnrollment,
  IndividualEnrollmentInput,
} from './enrollment-types';

type MaybePromise<T> = T | Promise<T>;

/** What the commands need; `EnrollmentStore` (a DpsServer's `enrollments`) has all of it. */
export interface DpsEnrollmentControl {
  addIndividual(input: IndividualEnrollmentInput, options?: { replace?: boolean }): MaybePromise<IndividualEnrollment>;
  addGroup(input: GroupEnrollmentInput, options?: { replace?: boolean }): MaybePromise<GroupEnrollment>;
  removeIndividual(registrationId: string): MaybePromise<boolean>;
  removeGroup(enrollmentGroupId: string): MaybePromise<boolean>;
  list(): MaybePromise<{ individual: IndividualEnrollment[]; groups: GroupEnrollment[] }>;
}

export interface DpsCommandContext {
  /** Shown with new enrollments so people know what to configure on the device. */
  idScope: string;
  /** `host:port` of the DPS endpoint, when known. */
  endpoint?: string;
  readTextFile(path: string): string;
  /** Defaults to 32 random bytes, base64. */
  generateKey?: () => string;
}

export type DpsCommand =
  | { command: 'add-enrollment'; kind: 'individual'; input: IndividualEnrollmentInput; replace: boolean; certFiles: { primary?: string; secondary?: string } }
  | { command: 'add-enrollment'; kind: 'group'; input: GroupEnrollmentInput; replace: boolean; caCertFile?: string }
  | { command: 'remove-enrollment'; kind: 'individual' | 'group'; id: string }
  | { command: 'list-enrollments'; json: boolean }
  | { command: 'derive-key'; groupKey: string; registrationId: string }
  | { command: 'help' };

export type ParseResult = { ok: true; command: DpsCommand } | { ok: false; message: string };

export const DPS_COMMANDS_HELP = `DPS commands:
  add-enrollment individual --registration-id ID [attestation] [settings] [--replace]
  add-enrollment group --group-id ID [attestation] [settings] [--replace]
      attestation: --primary-key B64 --secondary-key B64   (symmetric key; generated when no attestation is given)
                   --thumbprint HEX [--secondary-thumbprint HEX] | --cert-file PEM [--secondary-cert-file PEM]   (individual X.509)
                   --ca-cert-file PEM   (group of devices whose certificates chain to this CA)
      settings:    --device-id ID ({registrationId} is replaced)  --disabled  --polls N  --retry-after SECONDS
                   --fail-code CODE --fail-message TEXT  --initial-twin JSON  --assigned-hub HOST
                   --empty-operation-id   (final answer with "operationId":"", the short disabled form)
  remove-enrollment individual|group ID
  list-enrollments [--json]
  derive-key --group-key B64 --registration-id ID`;

const VALUE_FLAGS = new Set([
  'registration-id',
  'group-id',
  'primary-key',
  'secondary-key',
  'thumbprint',
  'secondary-thumbprint',
  'cert-file',
  'secondary-cert-file',
  'ca-cert-file',
  'device-id',
  'polls',
  'retry-after',
  'fail-code',
  'fail-message',
  'initial-twin',
  'assigned-hub',
  'group-key',
]);
const BOOLEAN_FLAGS = new Set(['disabled', 'replace', 'json', 'empty-operation-id']);

type Flags = { values: Map<string, string>; booleans: Set<string>; positional: string[] };

function readFlags(args: string[]): { ok: true; flags: Flags } | { ok: false; message: string } {
  const flags: Flags = { values: new Map(), booleans: new Set(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      flags.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (BOOLEAN_FLAGS.has(name) && eq < 0) {
      flags.booleans.add(name);
    } else if (VALUE_FLAGS.has(name)) {
      const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined) return { ok: false, message: `--${name} needs a value` };
      if (flags.values.has(name)) return { ok: false, message: `--${name} is given twice` };
      flags.values.set(name, value);
    } else {
      return { ok: false, message: `unknown option --${name}` };
    }
  }
  return { ok: true, flags };
}

function wholeNumber(flags: Flags, name: string): number | undefined | string {
  const raw = flags.values.get(name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) return `--${name} must be a whole number`;
  return Number(raw);
}

function parseBehaviour(flags: Flags): { ok: true; behaviour: EnrollmentBehaviour } | { ok: false; message: string } {
  const behaviour: EnrollmentBehaviour = {};
  const deviceId = flags.values.get('device-id');
  if (deviceId !== undefined) behaviour.deviceId = deviceId;
  if (flags.booleans.has('disabled')) behaviour.provisioningStatus = 'disabled';
  if (flags.booleans.has('empty-operation-id')) behaviour.emptyOperationId = true;
  for (const [flag, key] of [
    ['polls', 'pollsBeforeAssigned'],
    ['retry-after', 'retryAfterSeconds'],
  ] as const) {
    const value = wholeNumber(flags, flag);
    if (typeof value === 'string') return { ok: false, message: value };
    if (value !== undefined) behaviour[key] = value;
  }
  const failCode = wholeNumber(flags, 'fail-code');
  if (typeof failCode === 'string') return { ok: false, message: failCode };
  const failMessage = flags.values.get('fail-message');
  if (failCode !== undefined || failMessage !== undefined) {
    behaviour.failure = { errorCode: failCode ?? 400207, message: failMessage ?? 'Registration failed (emulated).' };
  }
  const twin = flags.values.get('initial-twin');
  if (twin !== undefined) {
    try {
      behaviour.initialTwin = JSON.parse(twin) as EnrollmentBehaviour['initialTwin'];
    } catch {
      return { ok: false, message: '--initial-twin must be JSON, e.g. {"desired":{"rate":5}}' };
    }
  }
  const hub = flags.values.get('assigned-hub');
  if (hub !== undefined) behaviour.assignedHub = hub;
  return { ok: true, behaviour };
}

/** Turns CLI arguments (after the program name) into a command; never throws. */
export function parseDpsCommand(argv: string[]): ParseResult {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help') return { ok: true, command: { command: 'help' } };
  const read = readFlags(rest);
  if (!read.ok) return read;
  const flags = read.flags;

  switch (name) {
    case 'list-enrollments':
      if (flags.positional.length > 0) return { ok: false, message: 'list-enrollments takes no arguments' };
      return { ok: true, command: { command: 'list-enrollments', json: flags.booleans.has('json') } };
    case 'derive-key': {
      const groupKey = flags.values.get('group-key');
      const registrationId = flags.values.get('registration-id');
      if (!groupKey || !registrationId) return { ok: false, message: 'derive-key needs --group-key and --registration-id' };
      return { ok: true, command: { command: 'derive-key', groupKey, registrationId } };
    }
    case 'remove-enrollment': {
      const [kind, id, extra] = flags.positional;
      if ((kind !== 'individual' && kind !== 'group') || !id || extra !== undefined) {
        return { ok: false, message: 'usage: remove-enrollment individual|group ID' };
      }
      return { ok: true, command: { command: 'remove-enrollment', kind, id } };
    }
    case 'add-enrollment':
      return parseAdd(flags);
    default:
      return { ok: false, message: `unknown DPS command ${name}` };
  }
}

function parseAdd(flags: Flags): ParseResult {
  const [kind, extra] = flags.positional;
  if ((kind !== 'individual' && kind !== 'group') || extra !== undefined) {
    return { ok: false, message: 'usage: add-enrollment individual|group ...' };
  }
  const behaviourResult = parseBehaviour(flags);
  if (!behaviourResult.ok) return behaviourResult;
  const behaviour = behaviourResult.behaviour;
  const replace = flags.booleans.has('replace');
  const primaryKey = flags.values.get('primary-key');
  const secondaryKey = flags.values.get('secondary-key');
  // Empty strings stand for "generate", resolved by runDpsCommand so parsing stays deterministic.
  const symmetric = { type: 'symmetricKey' as const, primaryKey: primaryKey ?? '', secondaryKey: secondaryKey ?? '' };

  if (kind === 'individual') {
    const registrationId = flags.values.get('registration-id');
    if (!registrationId) return { ok: false, message: 'add-enrollment individual needs --registration-id' };
    if (flags.values.has('group-id') || flags.values.has('ca-cert-file')) {
      return { ok: false, message: '--group-id and --ca-cert-file are for group enrollments' };
    }
    const thumbprint = flags.values.get('thumbprint');
    const secondaryThumbprint = flags.values.get('secondary-thumbprint');
    const certFile = flags.values.get('cert-file');
    const secondaryCertFile = flags.values.get('secondary-cert-file');
    const x509 = thumbprint ?? secondaryThumbprint ?? certFile ?? secondaryCertFile;
    if (x509 !== undefined && (primaryKey !== undefined || secondaryKey !== undefined)) {
      return { ok: false, message: 'give symmetric keys or X.509 options, not both' };
    }
    if (x509 === undefined) {
      return { ok: true, command: { command: 'add-enrollment', kind, input: { registrationId, attestation: symmetric, ...behaviour }, replace, certFiles: {} } };
    }
    const attestation: IndividualEnrollmentInput['attestation'] = { type: 'x509' };
    if (thumbprint !== undefined) attestation.primaryThumbprint = thumbprint;
    if (secondaryThumbprint !== undefined) attestation.secondaryThumbprint = secondaryThumbprint;
    const certFiles: { primary?: string; secondary?: string } = {};
    if (certFile !== undefined) certFiles.primary = certFile;
    if (secondaryCertFile !== undefined) certFiles.secondary = secondaryCertFile;
    return { ok: true, command: { command: 'add-enrollment', kind, input: { registrationId, attestation, ...behaviour }, replace, certFiles } };
  }

  const enrollmentGroupId = flags.values.get('group-id');
  if (!enrollmentGroupId) return { ok: false, message: 'add-enrollment group needs --group-id' };
  for (const individualOnly of ['registration-id', 'thumbprint', 'secondary-thumbprint', 'cert-file', 'secondary-cert-file']) {
    if (flags.values.has(individualOnly)) return { ok: false, message: `--${individualOnly} is for individual enrollments` };
  }
  const caCertFile = flags.values.get('ca-cert-file');
  if (caCertFile !== undefined) {
    if (primaryKey !== undefined || secondaryKey !== undefined) return { ok: false, message: 'give symmetric keys or --ca-cert-file, not both' };
    return {
      ok: true,
      command: { command: 'add-enrollment', kind, input: { enrollmentGroupId, attestation: { type: 'x509-ca', caCertPem: '' }, ...behaviour }, replace, caCertFile },
    };
  }
  return { ok: true, command: { command: 'add-enrollment', kind, input: { enrollmentGroupId, attestation: symmetric, ...behaviour }, replace } };
}

// ---- hooks the CLI (or an HTTP control endpoint) can call directly ----

export function addIndividualEnrollment(control: DpsEnrollmentControl, input: IndividualEnrollmentInput, options?: { replace?: boolean }): MaybePromise<IndividualEnrollment> {
  return control.addIndividual(input, options);
}

export function addGroupEnrollment(control: DpsEnrollmentControl, input: GroupEnrollmentInput, options?: { replace?: boolean }): MaybePromise<GroupEnrollment> {
  return control.addGroup(input, options);
}

export function listEnrollments(control: DpsEnrollmentControl): MaybePromise<{ individual: IndividualEnrollment[]; groups: GroupEnrollment[] }> {
  return control.list();
}

function settingsSummary(e: EnrollmentBehaviour): string {
  const parts: string[] = [];
  if (e.deviceId !== undefined) parts.push(`deviceId=${e.deviceId}`);
  if (e.provisioningStatus === 'disabled') parts.push('disabled');
  if (e.failure) parts.push(`fails with ${e.failure.errorCode}`);
  if (e.pollsBeforeAssigned !== undefined) parts.push(`polls=${e.pollsBeforeAssigned}`);
  if (e.retryAfterSeconds !== undefined) parts.push(`retry-after=${e.retryAfterSeconds}s`);
  if (e.assignedHub !== undefined) parts.push(`hub=${e.assignedHub}`);
  if (e.initialTwin !== undefined) parts.push('initial twin');
  if (e.emptyOperationId === true) parts.push('empty operationId');
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function describeIndividual(e: IndividualEnrollment): string {
  const how =
    e.attestation.type === 'symmetricKey'
      ? `symmetric key, primary ${e.attestation.primaryKey}, secondary ${e.attestation.secondaryKey}`
      : `X.509 thumbprint ${e.attestation.primaryThumbprint}${e.attestation.secondaryThumbprint ? ` / ${e.attestation.secondaryThumbprint}` : ''}`;
  return `individual ${e.registrationId}: ${how}${settingsSummary(e)}`;
}

function describeGroup(e: GroupEnrollment): string {
  const how =
    e.attestation.type === 'symmetricKey'
      ? `symmetric group key, primary ${e.attestation.primaryKey}, secondary ${e.attestation.secondaryKey}`
      : 'X.509 CA group';
  return `group ${e.enrollmentGroupId}: ${how}${settingsSummary(e)}`;
}

export interface CommandOutcome {
  exitCode: 0 | 1 | 2;
  output: string;
}

/** Runs a parsed command. Enrollment errors become exit code 1 with their message; nothing is thrown. */
export async function runDpsCommand(command: DpsCommand, control: DpsEnrollmentControl, context: DpsCommandContext): Promise<CommandOutcome> {
  const generate = context.generateKey ?? generateSymmetricKey;
  const where = `id scope ${context.idScope}${context.endpoint ? `, DPS endpoint ${context.endpoint}` : ''}`;
  try {
    switch (command.command) {
      case 'help':
        return { exitCode: 0, output: DPS_COMMANDS_HELP };
      case 'derive-key':
        return { exitCode: 0, output: deriveDeviceKey(command.groupKey, command.registrationId) };
      case 'list-enrollments': {
        const all = await control.list();
        if (command.json) return { exitCode: 0, output: JSON.stringify(all, null, 2) };
        const lines = [...all.individual.map(describeIndividual), ...all.groups.map(describeGroup)];
        return { exitCode: 0, output: lines.length > 0 ? lines.join('\n') : 'no enrollments' };
      }
      case 'remove-enrollment': {
        const removed = command.kind === 'individual' ? await control.removeIndividual(command.id) : await control.removeGroup(command.id);
        return removed ? { exitCode: 0, output: `removed ${command.kind} enrollment ${command.id}` } : { exitCode: 1, output: `no ${command.kind} enrollment ${command.id}` };
      }
      case 'add-enrollment': {
        if (command.kind === 'individual') {
          const input = structuredClone(command.input);
          if (input.attestation.type === 'symmetricKey') {
            input.attestation.primaryKey ||= generate();
            input.attestation.secondaryKey ||= generate();
          } else {
            if (command.certFiles.primary) input.attestation.primaryCertPem = context.readTextFile(command.certFiles.primary);
            if (command.certFiles.secondary) input.attestation.secondaryCertPem = context.readTextFile(command.certFiles.secondary);
          }
          const added = await control.addIndividual(input, { replace: command.replace });
          return { exitCode: 0, output: `added ${describeIndividual(added)}\n${where}` };
        }
        const input = structuredClone(command.input);
        if (input.attestation.type === 'symmetricKey') {
          input.attestation.primaryKey ||= generate();
          input.attestation.secondaryKey ||= generate();
        } else if (command.caCertFile) {
          input.attestation.caCertPem = context.readTextFile(command.caCertFile);
        }
        const added = await control.addGroup(input, { replace: command.replace });
        const hint = added.attestation.type === 'symmetricKey' ? '\ndevice keys: derive-key --group-key <primary> --registration-id <id>' : '';
        return { exitCode: 0, output: `added ${describeGroup(added)}\n${where}${hint}` };
      }
    }
  } catch (error) {
    return { exitCode: 1, output: error instanceof Error ? error.message : String(error) };
  }
}

/** parseDpsCommand then runDpsCommand; usage errors exit with 2 and the help text. */
export async function dpsCli(argv: string[], control: DpsEnrollmentControl, context: DpsCommandContext): Promise<CommandOutcome> {
  const parsed = parseDpsCommand(argv);
  if (!parsed.ok) return { exitCode: 2, output: `${parsed.message}\n\n${DPS_COMMANDS_HELP}` };
  return runDpsCommand(parsed.command, control, context);
}
