import { startXsnap, XsException, type XsnapDriver } from '../helpers/xsnap-driver';
import { bundleForXs } from '../../scripts/bundle-xs.mjs';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value);

const drivers: XsnapDriver[] = [];
const start = (...args: Parameters<typeof startXsnap>): XsnapDriver => {
  const driver = startXsnap(...args);
  drivers.push(driver);
  return driver;
};
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});

describe('xsnap driver: evaluate', () => {
  test('runs a script, returns an ArrayBuffer result and the meter', async () => {
    const xs = start();
    const { reply, meter } = await xs.evaluate('new Uint8Array([1, 2, 250]).buffer');
    expect(Array.from(reply)).toEqual([1, 2, 250]);
    expect(meter.compute).toBeGreaterThan(0);
    expect(meter.allocate).toBeGreaterThan(0);
    expect(meter.currentHeapCount).toBeGreaterThan(0);
    expect((await xs.evaluate('1 + 1')).reply).toEqual(new Uint8Array(0));
  });

  test('this is the real XS engine: no timers, no console, and the globals the notes list', async () => {
    const xs = start();
    const probe = `new TextEncoder().encode([typeof setTimeout, typeof console, typeof issueCommand, typeof TextEncoder].join(',')).buffer`;
    expect(text((await xs.evaluate(probe)).reply)).toBe('undefined,undefined,function,function');
  });

  test('a throwing script rejects with XS own message and the worker keeps going', async () => {
    const xs = start();
    await expect(xs.evaluate('throw new TypeError("nope")')).rejects.toEqual(new XsException('TypeError: nope'));
    expect(Array.from((await xs.evaluate('new Uint8Array([7]).buffer')).reply)).toEqual([7]);
  });

  test('print() output is kept', async () => {
    const xs = start();
    await xs.evaluate('print("hello from XS")');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(xs.stdout()).toBe('hello from XS\n');
  });
});

describe('xsnap driver: commands and issueCommand', () => {
  test('a bundled entry answers commands, asking the host through issueCommand while it works', async () => {
    const requests: number[][] = [];
    const xs = start({
      onRequest: (request) => {
        requests.push(Array.from(request));
        return bytes(`#${request[0]}`);
      },
    });
    await xs.evaluate(await bundleForXs('tests/xs/entries/smoke.ts'));
    const first = await xs.command(bytes('abc'));
    expect(text(first.reply)).toBe('cba#1');
    expect(first.meter.compute).toBeGreaterThan(0);
    const [second, third] = await Promise.all([xs.command(bytes('xy')), xs.command(new Uint8Array(0))]);
    expect(text(second.reply)).toBe('yx#2');
    expect(text(third.reply)).toBe('#3');
    expect(requests).toEqual([[1], [2], [3]]);
  });

  test('a request handler that throws fails the command with its error, and XS is not left blocked', async () => {
    const xs = start({
      onRequest: () => {
        throw new Error('host broke');
      },
    });
    await expect(xs.evaluate('issueCommand(new ArrayBuffer(1)); 1')).rejects.toThrow('host broke');
    expect(Array.from((await xs.evaluate('new Uint8Array([9]).buffer')).reply)).toEqual([9]);
  });

  test('the same work costs the same compute every time', async () => {
    const a = start();
    const b = start();
    const work = 'let s = 0; for (let i = 0; i < 1000; i++) s += i; new Uint8Array([s & 255]).buffer';
    const [ra, rb] = await Promise.all([a.evaluate(work), b.evaluate(work)]);
    expect(ra.meter.compute).toBe(rb.meter.compute);
  });
});

describe('xsnap driver: failures and shutdown', () => {
  test('exceeding the meter limit kills the worker with a message saying so', async () => {
    const xs = start({ meteringLimit: 10_000 });
    await expect(xs.evaluate('for (;;) {}')).rejects.toThrow(/exit code 17 \(too much computation \(meter limit\)\)/);
    await expect(xs.evaluate('1')).rejects.toThrow(/the xsnap worker is gone/);
  });

  test('close kills the worker and waits for it; calling it twice is fine', async () => {
    const xs = start();
    await xs.evaluate('1');
    await xs.close();
    await xs.close();
    expect((await xs.exited).signal).toBe('SIGKILL');
    await expect(xs.command(new Uint8Array(0))).rejects.toThrow(/killed by SIGKILL/);
  });

  test('a missing binary gives the command that builds it', () => {
    expect(() => startXsnap({ workerPath: '/nonexistent/xsnap-worker' })).toThrow(
      'the xsnap worker binary is missing (/nonexistent/xsnap-worker): run `npm rebuild @agoric/xsnap` to build it',
    );
  });
});
