// The whole chain on Node: firmware (src/main.ts) -> modem transport (AT over a TCP stand-in for the UART) -> the
// modem emulator -> real TLS with the modem's security tag -> the hub and DPS emulator. DPS with the tag's X.509
// credential, the hub, telemetry, twin, a direct method and C2D; then each modem fault gives its close reason
// and the hub client comes back by the failure policy.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { issueDeviceCertificate, thumbprint } from '../../emulator/src/pki';
import { ModemEmulator } from '../../emulator/src/modem/modem-emulator';
import { createNodeHost } from '../../hosts/node';
import { loadDefaultRoots } from '../../hosts/node/default-roots';
import { createTcpSerialPort } from '../../hosts/node/serial-ports';
import { startNodeFirmware } from '../../hosts/node/main-node';
import { Firmware } from '../../src/main';
import { SlmModem } from '../../src/modem/modem-transport';
import type { TransportCloseReason, TransportFactory } from '../../src/ports';
import { decideFailure } from '../../src/failure/failure-policy';
import { transportCause } from '../../src/failure/mqtt-cause';
import { runIotStoreCommand } from '../../scripts/iot-store';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tls = createTlsMaterial();
const device = issueDeviceCertificate('modem-dev');
const TAG = 16842753;
const FAST = { backoff: { minDelayMs: 50, maxDelayMs: 300, maxJitterMs: 0, throttledMinMs: 100, throttledMaxMs: 200 }, connectTimeoutMs: 8000 };

let emulator: Emulator;
let modemEmulator: ModemEmulator;
let modem: SlmModem;
let firmware: Firmware;
let folder: string;
const lines: string[] = [];
const closes: TransportCloseReason[] = [];
const registrations: boolean[] = [];

function recording(factory: TransportFactory): TransportFactory {
  return {
    connect: (options, events) =>
      // Each event passed on by name: listeners may be class instances, whose methods a spread would drop.
      factory.connect(options, {
        onConnect: () => events.onConnect(),
        onData: (chunk) => events.onData(chunk),
        onWritable: () => events.onWritable(),
        onError: (error) => events.onError(error),
        onClose: (reason) => {
          closes.push(reason);
          events.onClose(reason);
        },
      }),
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not within ${timeoutMs} ms:\n${lines.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  emulator = await Emulator.start({ persist: false, tls });
  emulator.dps!.enrollments.addIndividual({ registrationId: 'modem-dev', attestation: { type: 'x509', primaryThumbprint: thumbprint(device.certDer) }, retryAfterSeconds: 0 });
  modemEmulator = await ModemEmulator.start();
  // The tag goes in as a user puts it there: `npm run iot-store -- modem --tcp ... write` (AT%CMNG, offline).
  folder = mkdtempSync(join(tmpdir(), 'modem-e2e-'));
  writeFileSync(join(folder, 'ca.pem'), tls.ca.certPem);
  writeFileSync(join(folder, 'cert.pem'), device.certPem);
  writeFileSync(join(folder, 'key.pem'), device.keyPem);
  const quiet = { stdout: () => undefined, stderr: (t: string) => void lines.push(t) };
  const files = ['--ca', join(folder, 'ca.pem'), '--cert', join(folder, 'cert.pem'), '--key', join(folder, 'key.pem')];
  expect(await runIotStoreCommand(['modem', '--tcp', `127.0.0.1:${modemEmulator.port}`, 'write', String(TAG), ...files], quiet)).toBe(0);

  const host = createNodeHost({ logLevel: 'debug', logger: { write: (line) => void lines.push(line) } });
  modem = new SlmModem(createTcpSerialPort('127.0.0.1', modemEmulator.port), host.timers, { tags: { primary: TAG }, pollIntervalMs: 10, dataModeDelayMs: 2, commandTimeoutMs: 2000 });
  modem.on('registration', ({ registered }) => registrations.push(registered));
  host.transport = recording(modem.transportFactory());
  modem.start();
  firmware = new Firmware(
    host,
    { telemetryIntervalMs: 1000, idScope: emulator.dps!.idScope, registrationId: 'modem-dev', securityTag: TAG, dpsEndpoint: `127.0.0.1:${emulator.dpsPort}` },
    { hostKind: 'node-modem-test', defaultRoots: loadDefaultRoots(), extraCAs: [emulator.caDer], keysInModem: true, hubClient: FAST },
  );
});

afterAll(async () => {
  await firmware?.stop();
  modem?.stop();
  await modemEmulator?.stop();
  await emulator?.stop();
  rmSync(folder, { recursive: true, force: true });
});

describe('the full flow through the modem', () => {
  test('DPS with the modem tag X.509 credential, hub, telemetry, twin, method, C2D', async () => {
    expect(await firmware.start()).toBe('running');
    expect(registrations).toContain(true);
    expect(emulator.registry.getDevice('modem-dev')?.auth).toEqual({ type: 'x509-thumbprint', primaryThumbprint: thumbprint(device.certDer) });
    await emulator.waitFor('telemetry', (t) => t.deviceId === 'modem-dev', 10_000);

    const reported = emulator.waitFor('twin', (e) => e.deviceId === 'modem-dev' && e.section === 'reported' && 'telemetryInterval' in e.patch, 10_000);
    emulator.patchDesired('modem-dev', { telemetryInterval: 2000 });
    await reported;

    const answer = await emulator.invokeMethod('modem-dev', 'setTelemetryInterval', { telemetryIntervalMs: 1000 }, { timeoutMs: 10_000 });
    expect(answer.status).toBe(200);

    const completed = emulator.waitFor('c2d', (e) => e.deviceId === 'modem-dev' && e.outcome === 'completed', 10_000);
    emulator.sendC2D('modem-dev', 'hello over LTE');
    await completed;
    // The commands the modem saw open the secure socket with the tag and check the hub's name.
    expect(modemEmulator.commands).toContain(`AT#XSSOCKET=1,1,0,${TAG},2`);
    expect(modemEmulator.commands).toContain('AT#XSSOCKETOPT=1,2,"localhost"');
  });
});

describe('modem faults: the close reason, then recovery by the failure policy', () => {
  async function reconnectsAfter(fault: () => void): Promise<TransportCloseReason> {
    const before = closes.length;
    const back = emulator.waitFor('connection', (e) => e.type === 'connected' && e.deviceId === 'modem-dev', 20_000);
    fault();
    await until(() => closes.length > before, 'a close');
    await back;
    await emulator.waitFor('telemetry', (t) => t.deviceId === 'modem-dev', 10_000);
    const reason = closes[before]!;
    // The one failure policy decides the retry: every modem fault is a network cause, retried with backoff.
    expect(decideFailure('hub', transportCause(reason.code))).toBe('retry-backoff');
    return reason;
  }

  test('network deregistration: reset (+CEREG), reconnect once registered again', async () => {
    const reason = await reconnectsAfter(() => {
      modemEmulator.faults.deregister();
      setTimeout(() => modemEmulator.faults.register(), 300);
    });
    expect(reason).toMatchObject({ by: 'error', code: 'reset' });
    expect(reason.message).toMatch(/lost the LTE network \(\+CEREG: 2\)/);
    expect(registrations.slice(-2)).toEqual([false, true]);
  });

  test('socket drop: reset (POLLERR)', async () => {
    const reason = await reconnectsAfter(() => modemEmulator.faults.dropSocket());
    expect(reason).toMatchObject({ by: 'error', code: 'reset' });
    expect(reason.message).toMatch(/socket error/);
  });

  test('an ERROR reply to AT#XSEND: reset', async () => {
    const reason = await reconnectsAfter(() => modemEmulator.faults.errorNext('AT#XSEND'));
    expect(reason).toMatchObject({ by: 'error', code: 'reset', message: 'AT#XSEND: ERROR' });
  });

  test('a UART too slow for the command timeout: timeout', async () => {
    const reason = await reconnectsAfter(() => {
      modemEmulator.faults.slowUart(1, 400);
      setTimeout(() => modemEmulator.faults.slowUart(), 3000);
    });
    expect(reason).toMatchObject({ by: 'error', code: 'timeout' });
  });

  test('a slow UART within the timeout and garbage bytes: refused noise, no close', async () => {
    const before = closes.length;
    const refusedBefore = modem.channel.refusedCount;
    modemEmulator.faults.slowUart(64, 2);
    modemEmulator.faults.garbage();
    await emulator.waitFor('telemetry', (t) => t.deviceId === 'modem-dev', 10_000);
    modemEmulator.faults.garbage();
    await emulator.waitFor('telemetry', (t) => t.deviceId === 'modem-dev', 10_000);
    modemEmulator.faults.slowUart();
    expect(modem.channel.refusedCount).toBeGreaterThanOrEqual(refusedBefore + 2);
    expect(closes.length).toBe(before);
  });
});

describe('the Node host: --modem-tcp and --security-tag', () => {
  test('an x509=true connection string with the modem tag connects through the modem and sends telemetry', async () => {
    // The modem has one UART: the firmware above gives it up first.
    await firmware.stop();
    modem.stop();
    // The device DPS registered above, now as a fixed hub: `HostName=...;DeviceId=modem-dev;x509=true`.
    const config = { connectionString: emulator.connectionString('modem-dev'), securityTag: TAG, modemTcp: `127.0.0.1:${modemEmulator.port}`, telemetryIntervalMs: 1000, logLevel: 'debug' };
    const node = startNodeFirmware({ config, extraCAs: [emulator.caDer], logger: { write: (line) => void lines.push(line) }, hubClient: FAST });
    try {
      const state = await Promise.race([node.started, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
      if (state !== 'running') console.log(lines.slice(-40).join('\n'));
      expect(state).toBe('running');
      await emulator.waitFor('telemetry', (t) => t.deviceId === 'modem-dev', 10_000);
      expect(lines.some((l) => l.includes('modem: LTE registered (+CEREG: 1)'))).toBe(true);
    } finally {
      await node.stop();
    }
  });
});
