// Debian's Chromium driven by playwright-core for the explorer tests: no browser is ever downloaded. The flags
// keep it off the network (this machine has none beyond loopback) and the profile is a fresh empty folder.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CANDIDATES = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The system Chromium, or undefined (the tests then skip, saying why). */
export function findChromium(): string | undefined {
  return CANDIDATES.find((path): path is string => path !== undefined && path !== '' && existsSync(path));
}

export const CHROMIUM_MISSING = 'skipped: no Chromium at $CHROMIUM_PATH, /usr/bin/chromium or /usr/bin/chromium-browser (`apt-get install -y chromium`; .ci/run installs it)';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function openBrowser(executablePath: string, viewport = { width: 1500, height: 1100 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'explorer-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where a run's screenshots go: $EXPLORER_ARTIFACTS, or a fresh temp folder (printed, kept after the run). */
export function artifactsDir(): string {
  const dir = process.env['EXPLORER_ARTIFACTS'] ?? mkdtempSync(join(tmpdir(), 'explorer-artifacts-'));
  return dir;
}

/**
 * Polls an attribute until `accept` takes its number. (Not page.waitForFunction: its string predicates are
 * eval'd in the page, which the page's content security policy rightly refuses.)
 */
export async function waitForNumber(page: Page, selector: string, attribute: string, accept: (n: number) => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const text = await page.locator(selector).getAttribute(attribute, { timeout: timeoutMs });
    const value = Number(text);
    if (accept(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${selector} ${attribute} is ${text} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
