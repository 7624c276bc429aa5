// Integration set-up: the DPS emulator on 127.0.0.1 over real TLS, and DpsClient on the Node host ports.
import { createCa, issueServerCertificate, type KeyAndCert } from '../../emulator/src/pki';
import { Registry } from '../../emulator/src/registry';
import { startDpsServer, type DpsServer, type DpsServerOptions } from '../../emulator/src/dps/dps-server';
import { createNodeClock, createNodeCrypto, createNodeTimers, createNodeTlsTransportFactory } from '../../hosts/node';
import { DpsClient, type DpsClientDeps } from '../../src/dps/dps-client';

export interface DpsPki {
  ca: KeyAndCert;
  server: KeyAndCert;
}

/** One CA and server certificate per test file: RSA key generation is the slow part. */
export function dpsPki(): DpsPki {
  const ca = createCa('DPS Client Test Root');
  return { ca, server: issueServerCertificate(ca) };
}

export interface DpsBed {
  dps: DpsServer;
  registry: Registry;
  endpoint: string;
  trustedCAs: Uint8Array[];
  logs: string[];
  deps: DpsClientDeps;
  client: DpsClient;
  close(): Promise<void>;
}

export async function startDpsBed(pki: DpsPki, overrides: Partial<DpsServerOptions> = {}): Promise<DpsBed> {
  const registry = new Registry();
  const dps = await startDpsServer({
    host: '127.0.0.1',
    port: 0,
    tls: { key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.ca.certPem },
    registry,
    hubHostName: 'emulated-hub.azure-devices.net',
    ...overrides,
  });
  const logs: string[] = [];
  const deps: DpsClientDeps = {
    transport: createNodeTlsTransportFactory({ defaultConnectTimeoutMs: 5000, closeGraceMs: 500 }),
    timers: createNodeTimers(),
    clock: createNodeClock(),
    crypto: createNodeCrypto(),
    logger: { log: (level, message) => logs.push(`${level} ${message}`) },
  };
  return {
    dps,
    registry,
    endpoint: `127.0.0.1:${dps.port}`,
    trustedCAs: [pki.ca.certDer],
    logs,
    deps,
    client: new DpsClient(deps),
    close: () => dps.close(),
  };
}
