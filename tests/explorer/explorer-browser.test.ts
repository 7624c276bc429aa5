// The hub explorer in a real browser (Debian's Chromium through playwright-core): the emulator serves the page,
// the firmware on the Node host is the device, and every check is what a person sees on the page and what the
// device does. Screenshots of each step go to a temp folder (printed; or $EXPLORER_ARTIFACTS).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir, CHROMIUM_MISSING, findChromium, openBrowser, waitForNumber, type Browser } from './browser';
import { startDevice, startExplorerBed, type ExplorerBed, type TestDevice } from './bed';

const chromiumPath = findChromium();
const DEVICE = 'thermostat-1';
const maybe = chromiumPath ? describe : describe.skip;
if (!chromiumPath) console.log(`explorer browser tests ${CHROMIUM_MISSING}`);

let bed: ExplorerBed;
let device: TestDevice;
let browser: Browser;
let page: Page;
let artifacts: string;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

beforeAll(async () => {
  if (!chromiumPath) return;
  artifacts = artifactsDir();
  console.log(`explorer screenshots: ${artifacts}`);
  bed = await startExplorerBed();
  device = startDevice(bed.emulator, DEVICE, 1000);
  await device.waitForLine(/connected to the hub as device thermostat-1/, 15_000, true);
  browser = await openBrowser(chromiumPath);
  page = browser.page;
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(bed.url);
  await page.locator('[data-testid=stream-state]', { hasText: 'live' }).waitFor({ timeout: 10_000 });
  expect(problems).toEqual([]);
}, 60_000);

afterAll(async () => {
  if (!chromiumPath) return;
  await browser?.close();
  await device?.stop();
  await bed?.stop();
});

maybe('the explorer page (Chromium, firmware on the Node host as the device)', () => {
  test('the token leaves the address bar; the device is listed connected with its auth kind and last activity', async () => {
    expect(page.url()).not.toContain('token');
    const row = page.locator(`[data-device="${DEVICE}"]`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.getAttribute('data-state')).toBe('connected');
    await expect(row.innerText()).resolves.toMatch(/thermostat-1\s+connected\s+sas\s+\d+ s ago/);
  });

  test('DPS shows the group enrollment (no keys) and the device\'s registration, assigned', async () => {
    await expect(page.locator('[data-testid=enrollments] tbody').innerText()).resolves.toMatch(/^group\s+explorer-group\s+symmetricKey\s+enabled$/);
    await expect(page.locator('[data-testid=registrations] tbody').innerText()).resolves.toMatch(/^thermostat-1\s+group explorer-group\s+assigned\s+thermostat-1\s+[\d:.]+$/);
    const html = await page.content();
    expect(html).not.toContain(Buffer.alloc(32, 0x5a).toString('base64'));
  });

  test('telemetry rows and chart points appear within 2 s of the device sending', async () => {
    const message = await bed.emulator.waitFor('telemetry', (m) => m.deviceId === DEVICE, 5000);
    const heardAt = Date.now();
    const body = Buffer.from(message.body).toString('utf8');
    const points = bed.emulator.telemetry(DEVICE).length;
    await page.locator('[data-testid=telemetry-row]', { hasText: body }).first().waitFor({ timeout: 2000 });
    await waitForNumber(page, '[data-testid=chart]', 'data-points', (n) => n >= points, 2000);
    const shownAfterMs = Date.now() - heardAt;
    console.log(`telemetry ${body} on the page ${shownAfterMs} ms after the hub received it (chart: ${points}+ points)`);
    expect(shownAfterMs).toBeLessThan(2000);
    expect(await page.locator('[data-testid=chart]').getAttribute('data-fields')).toBe('temperature,humidity');
    // The row shows the message's properties (here the system ones the firmware sets).
    await expect(page.locator('[data-testid=telemetry-row]').first().innerText()).resolves.toContain('$.ct=application/json');
    expect(await page.locator('[data-testid=chart] canvas').count()).toBe(1);
    await shot('1-telemetry');
  });

  test('a desired-property edit reaches the device and its acknowledgement shows', async () => {
    const reaction = device.waitForLine(/twin: telemetryInterval 1000 ms -> 2000 ms \(desired version \d+\)/);
    await page.fill('[data-testid=twin-patch]', '{"telemetryInterval": 2000}');
    await page.click('[data-testid=twin-send]');
    await page.locator('[data-testid=twin-result]', { hasText: /desired version \d+/ }).waitFor({ timeout: 5000 });
    await reaction;
    const ack = page.locator('[data-testid=twin-updates] li[data-section=reported]', { hasText: '"value":2000' });
    await ack.first().waitFor({ timeout: 5000 });
    await expect(ack.first().innerText()).resolves.toMatch(/^device ack v\d+ \{"telemetryInterval":\{"ac":200,"av":\d+,"ad":"applied","value":2000\}\}$/);
    await expect(page.locator('[data-testid=twin-desired]').innerText()).resolves.toContain('"telemetryInterval": 2000');
    await shot('2-twin');
  });

  test('a method invoked from the page returns the device\'s answer', async () => {
    await page.fill('[data-testid=method-name]', 'getStatus');
    await page.fill('[data-testid=method-payload]', 'null');
    await page.fill('[data-testid=method-timeout]', '10');
    await page.click('[data-testid=method-invoke]');
    const result = page.locator('[data-testid=method-result]');
    await result.waitFor({ timeout: 10_000 });
    expect(await result.getAttribute('data-status')).toBe('200');
    const text = await result.innerText();
    expect(text).toContain('"deviceId": "thermostat-1"');
    expect(text).toContain('"telemetryIntervalMs": 2000');
    await device.waitForLine(/method getStatus answered 200/, 5000, true);
    await shot('3-method');
  });

  test('a C2D message sent from the page is received by the device, and its feedback (completed) shows', async () => {
    const received = device.waitForLine(/C2D message received id [\w-]+: "hello from the browser test" \(properties: kind=browser\)/);
    await page.fill('[data-testid=c2d-body]', 'hello from the browser test');
    await page.fill('[data-testid=c2d-properties]', '{"kind": "browser"}');
    await page.fill('[data-testid=c2d-ttl]', '');
    await page.click('[data-testid=c2d-send]');
    await received;
    await page.locator('[data-testid=c2d-sent] li[data-outcome=completed]', { hasText: 'hello from the browser test' }).waitFor({ timeout: 5000 });
    await shot('4-c2d');
    // docs/explorer.md's picture is this step's screenshot: EXPLORER_DOCS_SCREENSHOT=docs/explorer.png npm test -- tests/explorer
    const docsShot = process.env['EXPLORER_DOCS_SCREENSHOT'];
    if (docsShot) await page.screenshot({ path: docsShot });
  });

  test('bad input is refused by the server and its error shows beside the action', async () => {
    await page.fill('[data-testid=twin-patch]', '{"telemetryInterval": }');
    await page.click('[data-testid=twin-send]');
    await expect(page.locator('[data-testid=twin-error]').innerText()).resolves.toMatch(/^desired is not valid JSON: /);
    await page.fill('[data-testid=twin-patch]', '{"bad key": 1}');
    await page.click('[data-testid=twin-send]');
    await expect(page.locator('[data-testid=twin-error]', { hasText: 'desired patch refused' }).innerText()).resolves.toMatch(/desired patch refused: .*bad key/);

    await page.fill('[data-testid=method-timeout]', 'soon');
    await page.click('[data-testid=method-invoke]');
    await expect(page.locator('[data-testid=method-error]').innerText()).resolves.toBe('timeoutMs must be a number');
    await page.fill('[data-testid=method-timeout]', '10');
    await page.fill('[data-testid=method-name]', '');
    await page.click('[data-testid=method-invoke]');
    await expect(page.locator('[data-testid=method-error]').innerText()).resolves.toBe('method name is required');
    await page.fill('[data-testid=method-name]', 'getStatus');

    await page.fill('[data-testid=c2d-properties]', '{"count": 1}');
    await page.click('[data-testid=c2d-send]');
    await expect(page.locator('[data-testid=c2d-error]').innerText()).resolves.toBe('property count must be text');
    await page.fill('[data-testid=c2d-properties]', '{}');
    await page.fill('[data-testid=c2d-ttl]', '-5');
    await page.click('[data-testid=c2d-send]');
    await expect(page.locator('[data-testid=c2d-error]').innerText()).resolves.toBe('ttlMs must be a whole number from 1 to 172800000');
    await page.fill('[data-testid=c2d-ttl]', '');

    await page.selectOption('[data-testid=fault-kind]', 'refuse-connect');
    await page.fill('[data-testid=fault-returnCode]', '9');
    await page.click('[data-testid=fault-apply]');
    await expect(page.locator('[data-testid=fault-error]').innerText()).resolves.toBe('returnCode must be a whole number from 1 to 5');
    await shot('5-errors');
    // None of it reached the device.
    expect(bed.emulator.isConnected(DEVICE)).toBe(true);
  });

  test('switching on a fault disconnects the device and the page shows it', async () => {
    // Refuse its reconnects for a while, then drop it: the page shows it offline, and why.
    await page.selectOption('[data-testid=fault-kind]', 'refuse-connect');
    await page.fill('[data-testid=fault-returnCode]', '3');
    await page.fill('[data-testid=fault-durationMs]', '6000');
    await page.click('[data-testid=fault-apply]');
    await page.locator('[data-testid=fault-result]', { hasText: 'refuse-connect switched on for thermostat-1' }).waitFor({ timeout: 5000 });
    const dropped = bed.emulator.waitFor('connection', (e) => e.type === 'disconnected' && e.deviceId === DEVICE, 5000);
    await page.selectOption('[data-testid=fault-kind]', 'drop');
    await page.click('[data-testid=fault-apply]');
    expect(await dropped).toMatchObject({ reason: 'fault' });
    const row = page.locator(`[data-device="${DEVICE}"][data-state=disconnected]`);
    await row.waitFor({ timeout: 2000 });
    await expect(row.innerText()).resolves.toMatch(/disconnected\s+fault/);
    await page.locator('[data-testid=log]', { hasText: 'thermostat-1 disconnected (fault)' }).waitFor({ timeout: 2000 });
    await device.waitForLine(/connection closed|connection lost|disconnected/i, 5000, true);
    await shot('6-fault');
  });

  test('a C2D message whose time to live runs out while the device is away shows expired; clearing the faults lets it back', async () => {
    await page.fill('[data-testid=c2d-body]', 'too late');
    await page.fill('[data-testid=c2d-properties]', '{}');
    await page.fill('[data-testid=c2d-ttl]', '1');
    await page.click('[data-testid=c2d-send]');
    await page.locator('[data-testid=c2d-sent] li[data-outcome=pending]', { hasText: 'too late' }).waitFor({ timeout: 2000 });
    await new Promise((r) => setTimeout(r, 1100));
    await page.click('[data-testid=fault-clear]');
    await page.locator('[data-testid=fault-result]', { hasText: 'faults cleared for thermostat-1' }).waitFor({ timeout: 2000 });
    const startedAt = Date.now();
    await page.locator(`[data-device="${DEVICE}"][data-state=connected]`).waitFor({ timeout: 40_000 });
    console.log(`the device was back ${Date.now() - startedAt} ms after the faults were cleared`);
    await page.locator('[data-testid=c2d-sent] li[data-outcome=expired]', { hasText: 'too late' }).waitFor({ timeout: 5000 });
    expect(device.lines.some((l) => l.includes('too late'))).toBe(false);
    await shot('7-expired');
  }, 60_000);

  test('a device registered after the page opened is listed at once; choosing it shows its twin', async () => {
    bed.emulator.addDevice('late-device');
    bed.emulator.patchDesired('late-device', { colour: 'blue' });
    const row = page.locator('[data-device="late-device"][data-state=disconnected]');
    await row.waitFor({ timeout: 2000 });
    await row.click();
    await page.locator('[data-testid=selected-device]', { hasText: 'late-device' }).waitFor({ timeout: 2000 });
    await page.locator('[data-testid=twin-desired]', { hasText: '"colour": "blue"' }).waitFor({ timeout: 2000 });
    await expect(row.innerText()).resolves.toMatch(/late-device\s+disconnected\s+sas\s+\d+ s ago/);
  });
});
