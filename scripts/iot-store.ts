// iot-store: provision a device's store from a desk. Writes security tags from PEM/DER files, the hub or DPS
// configuration, lists what is stored without secrets, and computes group-derived keys and SAS tokens for
// curl tests. Runs on the Node file store (hosts/node/file-store.ts); the same records go to flash on boards.
// Every command changes the store in one atomic write (config set writes the key and the configuration
// together), and a file that is not a store is never written over.
//
//   npx tsx scripts/iot-store.ts [--store FILE] <command> ...      (see USAGE below, or --help)

import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FileStore, notAStore, type FileStoreOptions } from '../hosts/node/file-store';
import { createNodeCrypto } from '../hosts/node/node-crypto';
import { createNodeLogger } from '../hosts/node/node-logger';
import { parseConnectionString } from '../src/azure/connection-string';
import { deriveDeviceKey } from '../src/azure/group-key';
import { checkHostName, checkIdScope, checkRegistrationId } from '../src/azure/identifiers';
import { buildSasToken, DEFAULT_SAS_TTL_SECONDS } from '../src/azure/sas-token';
import { percentEncode } from '../src/encoding/percent';
import { base64Decode } from '../src/encoding/base64';
import { AssignmentStore, type DpsInputs } from '../src/storage/assignment-store';
import { CREDENTIAL_KINDS, type CredentialKind } from '../src/identity';
import { DeviceConfigStore, type DeviceConfig } from '../src/storage/device-config';
import { isTagNumber, MAX_TAG, type TagPart } from '../src/storage/security-tags';
import { SecurityTagStore, type SecurityTagInput } from '../src/storage/security-tag-store';
import type { StorageWrite } from '../src/storage/storage-result';
import { readCertificateInfo } from '../src/trust/x509-validity';
import { CliError } from './iot-store/cli-error';
import { checkKeyMatchesCertificate, readCertificates, readPrivateKey, readSecretText } from './iot-store/credential-files';
import { viewAsJson, viewAsText } from './iot-store/list-view';
import { runModemCommand } from './iot-store/modem';
import { fotaKeygen, fotaSign, fotaVerify } from './iot-store/fota-commands';

const USAGE = `usage: iot-store [--store FILE] <command>

  tag write N [--ca FILE]... [--cert FILE]... [--key FILE]
              [--symmetric-key BASE64 | --symmetric-key-file FILE] [--replace]
      Writes parts of security tag N (PEM or DER files; a PEM file may hold a chain). Parts not given are kept
      unless --replace. --cert is the device chain, leaf first; --key must belong to the leaf.
  tag delete N [--part ca|cert|key|symmetric-key]
  config set --connection-string TEXT | --connection-string-file FILE
  config set --id-scope S [--registration-id R] [--global-endpoint HOST] [--attestation symmetric-key|x509]
             [--symmetric-key BASE64 | --symmetric-key-file FILE | --group-key BASE64 | --group-key-file FILE]
  config set [--primary-tag N] [--secondary-tag N|none] [--trust extend|override]
      Keys go into the primary tag (default ${10}); a group key is never stored, only the key derived from it.
      With x509 attestation the registration id defaults to the subject CN of the primary tag's certificate.
  config reset
  list [--json]                 configuration, assignment and tags; fingerprints and lengths, never secrets
  assignment reset              forget the DPS assignment: the device provisions again at next boot
  derive-key --group-key BASE64 --registration-id R
  sas --resource R --key BASE64 [--key-name NAME] [--ttl SECONDS]
      R is URL-encoded unless it already contains '%'. --key-file FILE may replace --key.
  modem (--tcp HOST:PORT | --device PATH) write N|delete N|list ...
      Security tags in an nRF91 modem over AT%CMNG (see modem --help); the modem keeps the key.
  fota keygen --private-key FILE [--public-key FILE]
      A vendor Ed25519 key pair for signed firmware updates; the private key goes only to FILE (mode 0600, never
      over an existing file). Prints the public key and its key id.
  fota sign --private-key FILE --image FILE --version V --host H --path /P [--port N] [--job-id J]
            [--fragment-size N] [--allow-downgrade] [--trust-bundle FILE ...]
      Prints the desired \`firmware\` object (manifest and signature) to put in the device twin. --trust-bundle
      (PEM or DER roots, repeatable) carries new root certificates, signed with the image (docs/fota.md).
  fota verify --public-key FILE [--public-key FILE] --manifest FILE [--image FILE]
      Checks a manifest's signature against one or two key slots, and the image's size and SHA-256.

  The store is --store FILE, else $IOT_STORE_PATH, else ~/.azure-iot-xs/store.bin. A file there that is not a
  device store is refused, never written over; a damaged store reads as empty and is kept aside, byte for
  byte, as FILE.unreadable-<UTC time> when the command writes the fresh one.
  Exit codes: 0 done, 2 bad input (file, key, option; a store path holding another file), 1 the store could not
  be written.`;

const DEFAULT_PRIMARY_TAG = 10;
const DEFAULT_GLOBAL_ENDPOINT = 'global.azure-devices-provisioning.net';

const OPTIONS = {
  store: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ca: { type: 'string', multiple: true },
  cert: { type: 'string', multiple: true },
  key: { type: 'string' },
  'key-file': { type: 'string' },
  'symmetric-key': { type: 'string' },
  'symmetric-key-file': { type: 'string' },
  replace: { type: 'boolean' },
  part: { type: 'string' },
  'connection-string': { type: 'string' },
  'connection-string-file': { type: 'string' },
  'id-scope': { type: 'string' },
  'registration-id': { type: 'string' },
  'global-endpoint': { type: 'string' },
  attestation: { type: 'string' },
  'group-key': { type: 'string' },
  'group-key-file': { type: 'string' },
  'primary-tag': { type: 'string' },
  'secondary-tag': { type: 'string' },
  trust: { type: 'string' },
  json: { type: 'boolean' },
  resource: { type: 'string' },
  'key-name': { type: 'string' },
  ttl: { type: 'string' },
  'private-key': { type: 'string' },
  'public-key': { type: 'string', multiple: true },
  image: { type: 'string' },
  version: { type: 'string' },
  'job-id': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  path: { type: 'string' },
  'fragment-size': { type: 'string' },
  'allow-downgrade': { type: 'boolean' },
  manifest: { type: 'string' },
  'trust-bundle': { type: 'string', multiple: true },
} as const;

type OptionName = keyof typeof OPTIONS;
type Values = { [K in OptionName]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

const ALLOWED: Record<string, OptionName[]> = {
  'tag write': ['ca', 'cert', 'key', 'symmetric-key', 'symmetric-key-file', 'replace'],
  'tag delete': ['part'],
  'config set': [
    'connection-string', 'connection-string-file', 'id-scope', 'registration-id', 'global-endpoint', 'attestation',
    'symmetric-key', 'symmetric-key-file', 'group-key', 'group-key-file', 'primary-tag', 'secondary-tag', 'trust',
  ],
  'config reset': [],
  list: ['json'],
  'assignment reset': [],
  'derive-key': ['group-key', 'group-key-file', 'registration-id'],
  sas: ['resource', 'key', 'key-file', 'key-name', 'ttl'],
  'fota keygen': ['private-key', 'public-key'],
  'fota sign': ['private-key', 'image', 'version', 'job-id', 'host', 'port', 'path', 'fragment-size', 'allow-downgrade', 'trust-bundle'],
  'fota verify': ['public-key', 'manifest', 'image'],
};

/** Where the CLI's lines go, and test seams for the file store (a write that "dies" at a chosen step). */
export interface IotStoreIo {
  stdout(text: string): void;
  stderr(text: string): void;
  storeOptions?: Pick<FileStoreOptions, 'onWriteStep' | 'now'>;
}

const PROCESS_IO: IotStoreIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

let io: IotStoreIo = PROCESS_IO;
const out = (text: string) => io.stdout(`${text}\n`);
const warn = (text: string) => io.stderr(`iot-store: warning: ${text}\n`);

/** Runs one command; returns the exit code. */
export function runIotStore(argv: string[], target: IotStoreIo = PROCESS_IO): number {
  const previous = io;
  io = target;
  try {
    return run(argv);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`iot-store: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr(`iot-store: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    io = previous;
  }
}

function run(argv: string[]): number {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (error) {
    // parseArgs names the option; the value is never part of its message for these codes.
    throw new CliError(`${(error as Error).message.split('. ')[0]} (run with --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new CliError(`no command given\n${USAGE}`);
  const twoWords = `${positionals[0]} ${positionals[1] ?? ''}`.trim();
  const command = ALLOWED[twoWords] ? twoWords : ALLOWED[positionals[0]!] ? positionals[0]! : undefined;
  if (!command) throw new CliError(`unknown command (run with --help)`);
  const args = positionals.slice(command.split(' ').length);
  for (const name of Object.keys(values) as OptionName[]) {
    if (name !== 'store' && !ALLOWED[command]!.includes(name)) throw new CliError(`--${name} is not an option of '${command}'`);
  }

  switch (command) {
    case 'derive-key':
      noArgs(command, args);
      return deriveKey(values);
    case 'sas':
      noArgs(command, args);
      return sas(values);
    case 'fota keygen':
      noArgs(command, args);
      return fotaKeygen(values, out);
    case 'fota sign':
      noArgs(command, args);
      return fotaSign(values, out);
    case 'fota verify':
      noArgs(command, args);
      return fotaVerify(values, out);
  }

  const store = openStore(values.store);
  switch (command) {
    case 'tag write':
      return tagWrite(store, tagArg(command, args), values);
    case 'tag delete':
      return tagDelete(store, tagArg(command, args), values);
    case 'config set':
      noArgs(command, args);
      // The key goes into a tag and the identity into the configuration: both land, or neither.
      return inOneWrite(store, () => configSet(store, values));
    case 'config reset':
      noArgs(command, args);
      check(new DeviceConfigStore(store).reset());
      out('configuration deleted');
      return 0;
    case 'assignment reset':
      noArgs(command, args);
      check(new AssignmentStore(store).reset());
      out('assignment deleted: the device provisions again at next boot');
      return 0;
    case 'list': {
      noArgs(command, args);
      const view = {
        store: store.path,
        config: new DeviceConfigStore(store).load(),
        assignment: new AssignmentStore(store).peek(),
        tags: new SecurityTagStore(store).list(),
      };
      out(values.json ? viewAsJson(view) : viewAsText(view));
      return 0;
    }
  }
  throw new CliError(`unknown command (run with --help)`);
}

function openStore(option: string | undefined): FileStore {
  const path = resolve(option ?? process.env.IOT_STORE_PATH ?? join(homedir(), '.azure-iot-xs', 'store.bin'));
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CliError(`--store ${path}: cannot create its folder (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const foreign = notAStore(path);
  if (foreign !== undefined) {
    throw new CliError(`store ${path} is not a device store (${foreign}); refusing to write over it: give --store another file`);
  }
  const logger = createNodeLogger({ prefix: 'iot-store:', minLevel: 'warn', write: (line) => io.stderr(`${line}\n`) });
  return new FileStore({ path, logger, ...(io.storeOptions ?? {}) });
}

/** Runs `changes` as one store write; a write that fails is exit code 1, input refused on the way stays 2. */
function inOneWrite<T>(store: FileStore, changes: () => T): T {
  try {
    return store.batch(changes);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`writing ${store.path} failed: ${error instanceof Error ? error.message : String(error)}`, 1);
  }
}

function noArgs(command: string, args: string[]): void {
  if (args.length > 0) throw new CliError(`'${command}' takes no positional argument (got ${args.length})`);
}

function tagArg(command: string, args: string[]): number {
  if (args.length !== 1) throw new CliError(`'${command}' needs exactly one tag number`);
  return parseTag(`tag number`, args[0]!);
}

function parseTag(what: string, text: string): number {
  const n = /^(0|[1-9][0-9]{0,9})$/.test(text) ? Number(text) : Number.NaN;
  if (!isTagNumber(n)) throw new CliError(`${what} must be an integer 0..${MAX_TAG}`);
  return n;
}

function check(result: StorageWrite): void {
  if (result.ok) return;
  const { code, message } = result.error;
  throw new CliError(message, code === 'write-failed' ? 1 : 2);
}

/** A base64 key from `--name TEXT` or `--name-file FILE`, checked to decode; errors name the option only. */
function keyOption(values: Values, name: 'symmetric-key' | 'group-key' | 'key'): string | undefined {
  const fileOption = `${name}-file` as 'symmetric-key-file' | 'group-key-file' | 'key-file';
  const text = values[name];
  const file = values[fileOption];
  if (text !== undefined && file !== undefined) throw new CliError(`give --${name} or --${fileOption}, not both`);
  const key = file !== undefined ? readSecretText(`--${fileOption}`, file) : text;
  if (key === undefined) return undefined;
  const where = file !== undefined ? `--${fileOption} ${file}` : `--${name}`;
  const decoded = base64Decode(key);
  if (!decoded.ok) throw new CliError(`${where}: the key is not valid base64 (${decoded.error.message})`);
  if (decoded.value.length === 0) throw new CliError(`${where}: the key is empty`);
  return key;
}

function tagWrite(store: FileStore, tag: number, values: Values): number {
  const input: SecurityTagInput = {};
  if (values.ca) input.caCertificates = values.ca.flatMap((file) => readCertificates('--ca', file));
  if (values.cert) input.clientCertificates = values.cert.flatMap((file) => readCertificates('--cert', file));
  if (values.key !== undefined) {
    const { der, key } = readPrivateKey('--key', values.key);
    input.privateKey = der;
    const leaf = input.clientCertificates?.[0] ?? new SecurityTagStore(store).readPart(tag, 'clientCertificates')?.[0];
    if (leaf) checkKeyMatchesCertificate(leaf, key, values.cert?.[0] ?? `(tag ${tag})`, values.key);
  }
  const symmetric = keyOption(values, 'symmetric-key');
  if (symmetric !== undefined) input.symmetricKey = symmetric;
  if (Object.keys(input).length === 0) throw new CliError(`'tag write' needs at least one of --ca, --cert, --key, --symmetric-key`);
  const tags = new SecurityTagStore(store);
  check(values.replace ? tags.write(tag, input) : tags.update(tag, input));
  out(`tag ${tag} written: ${describeInput(input)}`);
  return 0;
}

function describeInput(input: SecurityTagInput): string {
  const parts: string[] = [];
  if (input.caCertificates) parts.push(`${input.caCertificates.length} CA certificate(s)`);
  if (input.clientCertificates) parts.push(`${input.clientCertificates.length} client certificate(s)`);
  if (input.privateKey) parts.push('private key');
  if (input.symmetricKey !== undefined) parts.push('symmetric key');
  return parts.join(', ');
}

const PART_NAMES: Record<string, TagPart> = {
  ca: 'caCertificates',
  cert: 'clientCertificates',
  key: 'privateKey',
  'symmetric-key': 'symmetricKey',
};

function tagDelete(store: FileStore, tag: number, values: Values): number {
  const tags = new SecurityTagStore(store);
  if (values.part === undefined) {
    check(tags.delete(tag));
    out(`tag ${tag} deleted`);
    return 0;
  }
  const part = PART_NAMES[values.part];
  if (!part) throw new CliError(`--part must be one of ${Object.keys(PART_NAMES).join(', ')}`);
  check(tags.deletePart(tag, part));
  out(`tag ${tag}: ${values.part} deleted`);
  return 0;
}

function configSet(store: FileStore, values: Values): number {
  const configs = new DeviceConfigStore(store);
  const tags = new SecurityTagStore(store);
  const loaded = configs.load();
  if (!loaded.ok && loaded.error.code !== 'missing') warn(`the stored configuration is unreadable (${loaded.error.message}); starting afresh`);
  const config: DeviceConfig = loaded.ok ? loaded.value : { tags: { primary: DEFAULT_PRIMARY_TAG }, trust: 'extend' };

  if (values['primary-tag'] !== undefined) config.tags.primary = parseTag('--primary-tag', values['primary-tag']);
  if (values['secondary-tag'] !== undefined) {
    if (values['secondary-tag'] === 'none') delete config.tags.secondary;
    else config.tags.secondary = parseTag('--secondary-tag', values['secondary-tag']);
  }
  if (values.trust !== undefined) {
    if (values.trust !== 'extend' && values.trust !== 'override') throw new CliError('--trust must be extend or override');
    config.trust = values.trust;
  }

  const connectionText =
    values['connection-string-file'] !== undefined
      ? readSecretText('--connection-string-file', values['connection-string-file'])
      : values['connection-string'];
  if (values['connection-string'] !== undefined && values['connection-string-file'] !== undefined) {
    throw new CliError('give --connection-string or --connection-string-file, not both');
  }
  const dpsOptions = (['id-scope', 'registration-id', 'global-endpoint', 'attestation', 'group-key', 'group-key-file'] as const).filter(
    (name) => values[name] !== undefined,
  );
  const primary = config.tags.primary;
  const notes: string[] = [];

  if (connectionText !== undefined) {
    if (dpsOptions.length > 0) throw new CliError(`--${dpsOptions[0]} cannot be combined with a connection string`);
    if (values['symmetric-key'] !== undefined || values['symmetric-key-file'] !== undefined) {
      throw new CliError('the connection string carries the key; --symmetric-key cannot be combined with it');
    }
    const parsed = parseConnectionString(connectionText);
    if (!parsed.ok) throw new CliError(`connection string: ${parsed.error.message}`);
    const cs = parsed.value;
    if (cs.sharedAccessKeyName !== undefined) {
      throw new CliError('connection string: SharedAccessKeyName marks a hub policy key; a device needs its own device key');
    }
    config.hub = { hostName: cs.hostName, deviceId: cs.deviceId, auth: cs.x509 ? 'x509' : 'symmetric-key' };
    if (cs.moduleId !== undefined) config.hub.moduleId = cs.moduleId;
    if (cs.gatewayHostName !== undefined) config.hub.gatewayHostName = cs.gatewayHostName;
    delete config.dps;
    if (cs.sharedAccessKey !== undefined) {
      check(tags.update(primary, { symmetricKey: cs.sharedAccessKey }));
      notes.push(`key in tag ${primary}`);
    } else if (!tags.readPart(primary, 'privateKey')) {
      warn(`x509=true but tag ${primary} holds no private key yet (tag write ${primary} --cert ... --key ...)`);
    }
  } else if (dpsOptions.length > 0) {
    config.dps = dpsInputs(values, config, tags);
    delete config.hub;
    const symmetric = keyOption(values, 'symmetric-key');
    const group = keyOption(values, 'group-key');
    if (symmetric !== undefined && group !== undefined) throw new CliError('give --symmetric-key or --group-key, not both');
    if ((symmetric !== undefined || group !== undefined) && config.dps.attestation !== 'symmetric-key') {
      throw new CliError('a symmetric or group key needs --attestation symmetric-key');
    }
    if (group !== undefined) {
      const derived = deriveDeviceKey(group, config.dps.registrationId, createNodeCrypto().hmacSha256);
      if (!derived.ok) throw new CliError(`--group-key: ${derived.error.message}`);
      check(tags.update(primary, { symmetricKey: derived.value }));
      notes.push(`key derived for ${config.dps.registrationId} in tag ${primary}`);
    } else if (symmetric !== undefined) {
      check(tags.update(primary, { symmetricKey: symmetric }));
      notes.push(`key in tag ${primary}`);
    } else if (config.dps.attestation === 'symmetric-key' && !tags.readPart(primary, 'symmetricKey')) {
      warn(`tag ${primary} holds no symmetric key yet (--symmetric-key or --group-key)`);
    }
  } else {
    const symmetric = keyOption(values, 'symmetric-key');
    if (symmetric !== undefined) {
      check(tags.update(primary, { symmetricKey: symmetric }));
      notes.push(`key in tag ${primary}`);
    }
  }

  check(configs.save(config));
  out(`configuration saved${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`);
  return 0;
}

function dpsInputs(values: Values, config: DeviceConfig, tags: SecurityTagStore): DpsInputs {
  const previous = config.dps;
  const idScope = values['id-scope'] ?? previous?.idScope;
  if (idScope === undefined) throw new CliError('--id-scope is required for DPS');
  const scope = checkIdScope(idScope, '--id-scope');
  if (!scope.ok) throw new CliError(scope.error.message);
  const globalEndpoint = values['global-endpoint'] ?? previous?.globalEndpoint ?? DEFAULT_GLOBAL_ENDPOINT;
  const host = checkHostName(globalEndpoint, '--global-endpoint');
  if (!host.ok) throw new CliError(host.error.message);

  let attestation: CredentialKind;
  if (values.attestation !== undefined) {
    if (!CREDENTIAL_KINDS.includes(values.attestation as CredentialKind)) throw new CliError(`--attestation must be one of ${CREDENTIAL_KINDS.join(', ')}`);
    attestation = values.attestation as CredentialKind;
  } else if (values['group-key'] ?? values['group-key-file'] ?? values['symmetric-key'] ?? values['symmetric-key-file']) {
    attestation = 'symmetric-key';
  } else {
    attestation = previous?.attestation ?? 'symmetric-key';
  }

  let registrationId = values['registration-id'] ?? previous?.registrationId;
  if (registrationId === undefined && attestation === 'x509') {
    const leaf = tags.readPart(config.tags.primary, 'clientCertificates')?.[0];
    const info = leaf ? readCertificateInfo(leaf) : undefined;
    if (info?.ok && info.value.subjectCN !== undefined) registrationId = info.value.subjectCN;
  }
  if (registrationId === undefined) {
    throw new CliError(
      attestation === 'x509'
        ? `--registration-id is required: tag ${config.tags.primary} has no client certificate with a subject CN`
        : '--registration-id is required for DPS',
    );
  }
  const reg = checkRegistrationId(registrationId, '--registration-id');
  if (!reg.ok) throw new CliError(reg.error.message);
  return { globalEndpoint, idScope, registrationId, attestation };
}

function deriveKey(values: Values): number {
  const group = keyOption(values, 'group-key');
  if (group === undefined) throw new CliError('--group-key (or --group-key-file) is required');
  const registrationId = values['registration-id'];
  if (registrationId === undefined) throw new CliError('--registration-id is required');
  const derived = deriveDeviceKey(group, registrationId, createNodeCrypto().hmacSha256);
  if (!derived.ok) throw new CliError(derived.error.message);
  out(derived.value);
  return 0;
}

function sas(values: Values): number {
  const raw = values.resource;
  if (raw === undefined || raw.length === 0) throw new CliError('--resource is required');
  const key = keyOption(values, 'key');
  if (key === undefined) throw new CliError('--key (or --key-file) is required');
  let ttl = DEFAULT_SAS_TTL_SECONDS;
  if (values.ttl !== undefined) {
    ttl = /^[1-9][0-9]{0,9}$/.test(values.ttl) ? Number(values.ttl) : Number.NaN;
    if (!Number.isSafeInteger(ttl)) throw new CliError('--ttl must be a positive whole number of seconds');
  }
  // Already-encoded text (it has %XX) is signed as given; anything else is encoded the way Azure expects.
  const resource = raw.includes('%') ? raw : percentEncode(raw);
  const token = buildSasToken(
    { resource, key, expiryUnixSeconds: Math.floor(Date.now() / 1000) + ttl, ...(values['key-name'] !== undefined ? { keyName: values['key-name'] } : {}) },
    createNodeCrypto().hmacSha256,
  );
  if (!token.ok) throw new CliError(token.error.message);
  out(token.value);
  return 0;
}

/** `modem ...` talks to a modem over a serial line (asynchronous); every other command is runIotStore's. */
export async function runIotStoreCommand(argv: string[], target: IotStoreIo = PROCESS_IO): Promise<number> {
  if (argv[0] !== 'modem') return runIotStore(argv, target);
  try {
    return await runModemCommand(argv.slice(1), (text) => target.stdout(`${text}\n`));
  } catch (error) {
    if (error instanceof CliError) {
      target.stderr(`iot-store: ${error.message}\n`);
      return error.exitCode;
    }
    target.stderr(`iot-store: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) process.exitCode = await runIotStoreCommand(process.argv.slice(2));
