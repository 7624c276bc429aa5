// The emulator's identity registry: devices, their modules, and the CAs trusted for X.509 CA authentication.
// In memory; `save`/`load` keep a human-readable JSON copy in the state folder so people can inspect and edit it.
import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pemToDer, thumbprint as certThumbprint } from './pki';

export type DeviceAuth =
  | { type: 'sas'; primaryKey: string; secondaryKey: string }
  | { type: 'x509-thumbprint'; primaryThumbprint: string; secondaryThumbprint?: string }
  | { type: 'x509-ca' };

export type DeviceStatus = 'enabled' | 'disabled';

export interface ModuleRecord {
  deviceId: string;
  moduleId: string;
  auth: DeviceAuth;
  createdAt: string;
}

export interface DeviceRecord {
  deviceId: string;
  auth: DeviceAuth;
  status: DeviceStatus;
  modules: Record<string, ModuleRecord>;
  createdAt: string;
}

export interface CertificateAuthorityRecord {
  name: string;
  certPem: string;
  /** Upper-case SHA-256 hex of the DER certificate. */
  thumbprint: string;
}

export class RegistryError extends Error {
  constructor(
    readonly code: 'invalid-id' | 'invalid-auth' | 'duplicate' | 'not-found',
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** Azure's device and module id alphabet: up to 128 ASCII letters, digits and `- . % _ * ? ! ( ) , : = @ $ '`. */
const ID_PATTERN = /^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$/;

export function isValidIdentityId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** A fresh 32-byte base64 key, as the portal generates. */
export function generateSymmetricKey(): string {
  return randomBytes(32).toString('base64');
}

function normalizeThumbprint(value: string): string {
  return value.replace(/[:\s]/g, '').toUpperCase();
}

function validateAuth(auth: DeviceAuth): DeviceAuth {
  switch (auth.type) {
    case 'sas': {
      for (const [name, key] of [['primaryKey', auth.primaryKey], ['secondaryKey', auth.secondaryKey]] as const) {
        if (typeof key !== 'string' || key.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
          throw new RegistryError('invalid-auth', `${name} must be a non-empty base64 string`);
        }
      }
      return { type: 'sas', primaryKey: auth.primaryKey, secondaryKey: auth.secondaryKey };
    }
    case 'x509-thumbprint': {
      const primary = normalizeThumbprint(auth.primaryThumbprint ?? '');
      if (!/^([0-9A-F]{40}|[0-9A-F]{64})$/.test(primary)) {
        throw new RegistryError('invalid-auth', 'primaryThumbprint must be 40 (SHA-1) or 64 (SHA-256) hex digits');
      }
      const secondary = auth.secondaryThumbprint === undefined ? undefined : normalizeThumbprint(auth.secondaryThumbprint);
      if (secondary !== undefined && !/^([0-9A-F]{40}|[0-9A-F]{64})$/.test(secondary)) {
        throw new RegistryError('invalid-auth', 'secondaryThumbprint must be 40 (SHA-1) or 64 (SHA-256) hex digits');
      }
      return secondary === undefined
        ? { type: 'x509-thumbprint', primaryThumbprint: primary }
        : { type: 'x509-thumbprint', primaryThumbprint: primary, secondaryThumbprint: secondary };
    }
    case 'x509-ca':
      return { type: 'x509-ca' };
    default:
      throw new RegistryError('invalid-auth', 'auth.type must be sas, x509-thumbprint or x509-ca');
  }
}

function checkId(kind: string, id: string): void {
  if (typeof id !== 'string' || !isValidIdentityId(id)) {
    throw new RegistryError('invalid-id', `${kind} id must be 1-128 characters of A-Z a-z 0-9 - . % _ * ? ! ( ) , : = @ $ '`);
  }
}

interface RegistryFile {
  version: 1;
  devices: DeviceRecord[];
  certificateAuthorities: CertificateAuthorityRecord[];
}

export type RegistryChange =
  | { kind: 'device-added' | 'device-updated' | 'device-removed'; deviceId: string }
  | { kind: 'module-added' | 'module-removed'; deviceId: string; moduleId: string }
  | { kind: 'ca-added' | 'ca-removed'; name: string };

export class Registry {
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly cas = new Map<string, CertificateAuthorityRecord>();
  private readonly changeListeners = new Set<(change: RegistryChange) => void>();

  /** Called after every change; the hub uses it to drop connections of removed or disabled identities. */
  onChange(listener: (change: RegistryChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(change: RegistryChange): void {
    for (const listener of [...this.changeListeners]) listener(change);
  }

  /** Creates the device, or replaces its auth and status (keeping its modules). */
  upsertDevice(input: { deviceId: string; auth: DeviceAuth; status?: DeviceStatus }): DeviceRecord {
    checkId('device', input.deviceId);
    const auth = validateAuth(input.auth);
    const existing = this.devices.get(input.deviceId);
    const record: DeviceRecord = {
      deviceId: input.deviceId,
      auth,
      status: input.status ?? existing?.status ?? 'enabled',
      modules: existing?.modules ?? {},
      createdAt: existing?.createdAt ?? new Date().toISOString(),
    };
    this.devices.set(input.deviceId, record);
    this.changed({ kind: existing ? 'device-updated' : 'device-added', deviceId: input.deviceId });
    return record;
  }

  /** Creates the device; throws RegistryError('duplicate') when it exists already. */
  addDevice(input: { deviceId: string; auth?: DeviceAuth; status?: DeviceStatus }): DeviceRecord {
    checkId('device', input.deviceId);
    if (this.devices.has(input.deviceId)) {
      throw new RegistryError('duplicate', `device ${input.deviceId} already exists`);
    }
    const auth = input.auth ?? { type: 'sas', primaryKey: generateSymmetricKey(), secondaryKey: generateSymmetricKey() };
    return this.upsertDevice({ deviceId: input.deviceId, auth, status: input.status });
  }

  getDevice(deviceId: string): DeviceRecord | undefined {
    return this.devices.get(deviceId);
  }

  removeDevice(deviceId: string): boolean {
    const removed = this.devices.delete(deviceId);
    if (removed) this.changed({ kind: 'device-removed', deviceId });
    return removed;
  }

  listDevices(): DeviceRecord[] {
    return [...this.devices.values()];
  }

  setStatus(deviceId: string, status: DeviceStatus): DeviceRecord {
    const device = this.devices.get(deviceId);
    if (!device) throw new RegistryError('not-found', `device ${deviceId} does not exist`);
    device.status = status;
    this.changed({ kind: 'device-updated', deviceId });
    return device;
  }

  addModule(deviceId: string, moduleId: string, auth?: DeviceAuth): ModuleRecord {
    checkId('module', moduleId);
    const device = this.devices.get(deviceId);
    if (!device) throw new RegistryError('not-found', `device ${deviceId} does not exist`);
    if (device.modules[moduleId]) {
      throw new RegistryError('duplicate', `module ${deviceId}/${moduleId} already exists`);
    }
    const record: ModuleRecord = {
      deviceId,
      moduleId,
      auth: validateAuth(auth ?? { type: 'sas', primaryKey: generateSymmetricKey(), secondaryKey: generateSymmetricKey() }),
      createdAt: new Date().toISOString(),
    };
    device.modules[moduleId] = record;
    this.changed({ kind: 'module-added', deviceId, moduleId });
    return record;
  }

  getModule(deviceId: string, moduleId: string): ModuleRecord | undefined {
    return this.devices.get(deviceId)?.modules[moduleId];
  }

  removeModule(deviceId: string, moduleId: string): boolean {
    const device = this.devices.get(deviceId);
    if (!device?.modules[moduleId]) return false;
    delete device.modules[moduleId];
    this.changed({ kind: 'module-removed', deviceId, moduleId });
    return true;
  }

  /** Trusts `certPem` as a root for X.509 CA-authenticated devices (the portal's "verified" CA). */
  addCertificateAuthority(name: string, certPem: string): CertificateAuthorityRecord {
    if (typeof name !== 'string' || name.length === 0) throw new RegistryError('invalid-id', 'CA name must not be empty');
    if (typeof certPem !== 'string' || !certPem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new RegistryError('invalid-auth', `CA ${name}: certificate must be PEM`);
    }
    const record: CertificateAuthorityRecord = { name, certPem, thumbprint: certThumbprint(pemToDer(certPem)) };
    this.cas.set(name, record);
    this.changed({ kind: 'ca-added', name });
    return record;
  }

  removeCertificateAuthority(name: string): boolean {
    const removed = this.cas.delete(name);
    if (removed) this.changed({ kind: 'ca-removed', name });
    return removed;
  }

  listCertificateAuthorities(): CertificateAuthorityRecord[] {
    return [...this.cas.values()];
  }

  /** Writes `registry.json` in `dir` (atomically: temp file then rename). */
  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    const file: RegistryFile = {
      version: 1,
      devices: this.listDevices(),
      certificateAuthorities: this.listCertificateAuthorities(),
    };
    const target = join(dir, 'registry.json');
    writeFileSync(`${target}.tmp`, JSON.stringify(file, null, 2) + '\n');
    renameSync(`${target}.tmp`, target);
  }

  /** Replaces the contents with `registry.json` from `dir`, when it exists; entries are validated as on add. */
  load(dir: string): void {
    const path = join(dir, 'registry.json');
    if (!existsSync(path)) return;
    let parsed: Partial<RegistryFile>;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<RegistryFile>;
    } catch {
      throw new RegistryError('invalid-auth', `${path} is not valid JSON`);
    }
    this.devices.clear();
    this.cas.clear();
    for (const device of parsed.devices ?? []) {
      this.upsertDevice({ deviceId: device.deviceId, auth: device.auth, status: device.status });
      const record = this.devices.get(device.deviceId);
      if (record && device.createdAt) record.createdAt = device.createdAt;
      for (const module of Object.values(device.modules ?? {})) {
        const added = this.addModule(device.deviceId, module.moduleId, module.auth);
        if (module.createdAt) added.createdAt = module.createdAt;
      }
    }
    for (const ca of parsed.certificateAuthorities ?? []) this.addCertificateAuthority(ca.name, ca.certPem);
  }
}
