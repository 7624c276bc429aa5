// The modem chain on the real XS engine (xsnap): firmware and SLM modem transport bundled for XS -> AT over a
// bridged byte pipe -> the modem emulator -> real TLS with the modem's security tag -> the hub and DPS emulator.
// DPS with the tag's X.509 credential, the hub, telemetry, a desired property, a direct method and C2D.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import { ModemEmulator } from '../../emulator/src/modem/modem-emulator';
import { createNodeHost } from '../../hosts/node/index';
import { createTcpSerialPort } from '../../hosts/node/serial-ports';
import type { BridgeValue } from '../../hosts/xsnap/bridge-protocol';
import type { TransportFactory } from '../../src/ports';
import { runIotStoreCommand } from '../../scripts/iot-store';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';
import { XsHostBridge } from '../helpers/xs-host-bridge';
import { startXsnap, type XsnapDriver } from '../helpers/xsnap-driver';

const tls = createTlsMaterial();
const device = issueDeviceCertificate('xs-modem-dev');
const TAG = 16842754;
let emulator: Emulator;
let modemEmulator: ModemEmulator;
let xs: XsnapDriver;
let bridge: XsHostBridge;
let folder: string;
const notices: Array<[string, BridgeValue | undefined]> = [];
const logLines: string[] = [];

async function until(what: string, probe: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!probe()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}; log:\n${logLines.slice(-40).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The Node end of the UART: the bridge's "uart" connections become plain TCP to the modem emulator. */
function uartPipe(port: number): TransportFactory {
  const serial = createTcpSerialPort('127.0.0.1', port);
  return {
    connect(options, events) {
      if (options.host !== 'uart') throw new Error(`only the UART is reachable here, not ${options.host}`);
      let open = true;
      const line = serial.open({
        onData: (chunk) => events.onData(chunk),
        onClose: (message) => {
          if (!open) return;
          open = false;
          events.onClose({ by: 'peer', message });
        },
      });
      setImmediate(() => open && events.onConnect());
      return {
        write: (bytes) => open && line.write(bytes),
        close: () => {
          if (!open) return;
          open = false;
          line.close();
          setImmediate(() => events.onClose({ by: 'local', message: 'closed' }));
        },
      };
    },
  };
}

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls });
  emulator.dps!.enrollments.addIndividual({ registrationId: 'xs-modem-dev', attestation: { type: 'x509', primaryThumbprint: thumbprint(device.certDer) }, retryAfterSeconds: 0 });
  modemEmulator = await ModemEmulator.start();
  folder = mkdtempSync(join(tmpdir(), 'modem-xs-'));
  writeFileSync(join(folder, 'ca.pem'), tls.ca.certPem);
  writeFileSync(join(folder, 'cert.pem'), device.certPem);
  writeFileSync(join(folder, 'key.pem'), device.keyPem);
  const quiet = { stdout: () => undefined, stderr: (t: string) => void logLines.push(t) };
  const files = ['--ca', join(folder, 'ca.pem'), '--cert', join(folder, 'cert.pem'), '--key', join(folder, 'key.pem')];
  expect(await runIotStoreCommand(['modem', '--tcp', `127.0.0.1:${modemEmulator.port}`, 'write', String(TAG), ...files], quiet)).toBe(0);

  const script = await bundleForXs('tests/modem/xs/firmware-entry.ts');
  const ports = createNodeHost({ logLevel: 'debug', logger: { write: (line) => logLines.push(line) } });
  ports.transport = uartPipe(modemEmulator.port);
  let driver: XsnapDriver | undefined;
  bridge = new XsHostBridge({ command: (bytes) => driver!.command(bytes) }, { ports, onApp: (name, data) => void notices.push([name, data]) });
  driver = xs = startXsnap({ name: 'modem-e2e', onRequest: bridge.handleRequest });
  await xs.evaluate(script);
}, 60_000);

afterAll(async () => {
  await bridge?.app('stop').catch(() => undefined);
  bridge?.shutdown();
  await bridge?.idle().catch(() => undefined);
  await xs?.close();
  await modemEmulator?.stop();
  await emulator?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('the firmware on XS through the nRF91 modem (SLM AT commands)', () => {
  test('DPS with the modem tag X.509 credential, hub, telemetry, twin, method, C2D', async () => {
    const config = { telemetryIntervalMs: 1000, idScope: emulator.dps!.idScope, registrationId: 'xs-modem-dev', securityTag: TAG, dpsEndpoint: `127.0.0.1:${emulator.dpsPort}` };
    await bridge.app('boot', { config: JSON.stringify(config), ca: emulator.caDer, tag: TAG });
    await until('the firmware running', () => notices.some(([name]) => name === 'started'), 40_000);
    expect(notices.find(([name]) => name === 'started')![1]).toEqual({ state: 'running', failure: null });
    expect(notices).toContainEqual(['registration', true]);
    expect(emulator.registry.getDevice('xs-modem-dev')?.auth).toEqual({ type: 'x509-thumbprint', primaryThumbprint: thumbprint(device.certDer) });
    await emulator.waitFor('telemetry', (t) => t.deviceId === 'xs-modem-dev', 10_000);

    const reported = emulator.waitFor('twin', (e) => e.deviceId === 'xs-modem-dev' && e.section === 'reported' && 'telemetryInterval' in e.patch, 10_000);
    emulator.patchDesired('xs-modem-dev', { telemetryInterval: 2000 });
    expect((await reported).patch['telemetryInterval']).toMatchObject({ value: 2000, ac: 200 });

    expect((await emulator.invokeMethod('xs-modem-dev', 'getStatus', undefined, { timeoutMs: 10_000 })).status).toBe(200);

    const completed = emulator.waitFor('c2d', (e) => e.deviceId === 'xs-modem-dev' && e.outcome === 'completed', 10_000);
    emulator.sendC2D('xs-modem-dev', 'hello xs over LTE');
    await completed;
    expect(modemEmulator.commands).toContain(`AT#XSSOCKET=1,1,0,${TAG},2`);
  }, 90_000);
});
