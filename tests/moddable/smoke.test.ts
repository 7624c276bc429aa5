// Builds tests/moddable/smoke (hosts/moddable on the real Moddable runtime) with mcconfig for the Linux
// simulator, runs it in mcsim under a virtual X display and checks what it prints. Needs the Moddable SDK:
// runs only when $MODDABLE is set, otherwise skips with a message. Everything it makes lives in a temp folder.
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate, issueDeviceCertificate, issueServerCertificate } from '../../emulator/src/pki';
import {
  findClosedPort,
  startClientAuthServer,
  startEchoServer,
  startSntpResponder,
  type Closable,
  type ListeningServer,
} from './smoke-fixtures';
import { BUILD_TIMEOUT_MS, buildForSimulator, MODDABLE, REPO, requireMcconfig, spawnMcsim, type Built, type Finished } from './mcsim-harness';

const ECHO_BYTES = 40_000;
const SNTP_SECONDS = 1_767_225_600; // 2026-01-01T00:00:00Z
const RUN_TIMEOUT_MS = 90_000;

/** Runs mcsim headless until the app prints its last line; the whole process group (xvfb-run, Xvfb, mcsim) is ours. */
function runSimulator(library: string, cwd: string): Promise<Finished> {
  const started = Date.now();
  const child: ChildProcess = spawnMcsim(library, cwd);
  let output = '';
  const stop = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  };
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
    if (output.includes('smoke: done\n')) stop();
  });
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((done) => {
    const timer = setTimeout(stop, RUN_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output, ms: Date.now() - started });
    });
  });
}

if (!MODDABLE) {
  console.log('skipped: $MODDABLE is not set (export MODDABLE=/opt/moddable, the Moddable SDK checkout with its tools built, to run the smoke app in mcsim)');
  test.skip('Moddable smoke app in mcsim (needs $MODDABLE)', () => undefined);
} else {
  describe('hosts/moddable smoke app on the Moddable simulator', () => {
    let work: string;
    const servers: Closable[] = [];
    let echo: ListeningServer;
    let sntp: Closable | undefined;
    let build: Built;
    let sim: Finished;
    let lines: string[] = [];

    beforeAll(async () => {
      requireMcconfig();

      work = mkdtempSync(join(tmpdir(), 'moddable-smoke-'));
      const root = createCa('Smoke Root');
      const intermediate = issueCertificate({ commonName: 'Smoke Intermediate', ca: root, usage: 'ca' });
      const leaf = issueServerCertificate(intermediate);
      const deviceCa = createCa('Smoke Device CA');
      const device = issueDeviceCertificate('smoke-device', deviceCa);

      echo = await startEchoServer(leaf, intermediate);
      servers.push(echo);
      const clientAuth = await startClientAuthServer(leaf, intermediate, deviceCa);
      servers.push(clientAuth);
      sntp = await startSntpResponder(SNTP_SECONDS);
      if (sntp) servers.push(sntp);

      writeFileSync(join(work, 'smoke-ca.der'), root.certDer);
      writeFileSync(join(work, 'smoke-device-cert.der'), device.certDer);
      writeFileSync(join(work, 'smoke-device-key.der'), device.keyDer);
      mkdirSync(join(work, 'prefs'));
      mkdirSync(join(work, 'build'));
      const manifest = {
        include: [join(REPO, 'tests/moddable/smoke/manifest.json')],
        config: {
          file: { root: `${join(work, 'prefs')}/` },
          smoke: {
            port: echo.port,
            clientAuthPort: clientAuth.port,
            closedPort: await findClosedPort(),
            echoBytes: ECHO_BYTES,
            ...(sntp ? { sntpHost: '127.0.0.1' } : {}),
          },
        },
        resources: { '*': ['smoke-ca', 'smoke-device-cert', 'smoke-device-key'].map((name) => join(work, name)) },
      };
      writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest, null, 2));

      build = await buildForSimulator(work, ['-o', join(work, 'build'), join(work, 'manifest.json')]);
      if (!build.library) return;
      sim = await runSimulator(build.library, work);
      lines = sim.output.split('\n').filter((line) => line.startsWith('smoke:') || line.startsWith('host '));
      console.log(`mcconfig ${build.ms} ms, mcsim ${sim.ms} ms; the app printed:\n${lines.join('\n')}`);
      // When the app stops short of its last line, the simulator's own last words (a crash, an XS abort) say why.
      if (!sim.output.includes('smoke: done')) console.log(`mcsim exited ${sim.code} before 'smoke: done'; its last output:\n${sim.output.split('\n').slice(-25).join('\n')}`);
    }, BUILD_TIMEOUT_MS + RUN_TIMEOUT_MS + 30_000);

    afterAll(async () => {
      for (const server of servers.splice(0).reverse()) await server.close();
      if (work && !process.env.MODDABLE_SMOKE_KEEP) rmSync(work, { recursive: true, force: true });
    });

    describe('build and run', () => {
      test('mcconfig -m -p lin builds the app and TypeScript passes', () => {
        expect(build.output).not.toContain('typescript compile failure');
        expect(build.code).toBe(0);
      });

      test('the app runs to its last line', () => {
        expect(lines[0]).toBe('smoke: start');
        expect(lines[lines.length - 1]).toBe('smoke: done');
      });
    });

    describe('crypto', () => {
      test('HMAC-SHA256 matches RFC 4231 case 2 and Node', () => {
        const expected = createHmac('sha256', 'Jefe').update('what do ya want for nothing?').digest('hex');
        expect(expected).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
        expect(lines).toContain(`smoke: hmac ${expected}`);
      });

      test('randomBytes gives the asked length', () => {
        expect(lines).toContain('smoke: random 32 bytes, not all zero');
      });
    });

    describe('store on Preference', () => {
      test('a 5000-byte value is chunked, read back, rewritten smaller and deleted', () => {
        expect(lines).toEqual(
          expect.arrayContaining([
            'smoke: store large read back ok 5000 bytes',
            'smoke: store rewrite read back ok 1500 bytes',
            'smoke: store keys device/large-value,device/small',
            'smoke: store delete gone',
            'smoke: store empty read back ok',
          ]),
        );
      });

      test('only short preference names are left, with no stale chunks', () => {
        const saved = JSON.parse(readFileSync(join(work, 'prefs/modpreferences.json'), 'utf8')) as Record<string, Record<string, unknown>>;
        const names = Object.keys(saved.azfw ?? {});
        expect(names.every((name) => name.length <= 15)).toBe(true);
        // device/small: index + 1 chunk; device/empty: index only; device/large-value: deleted entirely.
        expect(names).toHaveLength(3);
        expect(Object.values(saved.azfw).filter((v) => typeof v === 'string').sort()).toEqual([
          'v1 a 0 0 811c9dc5 device/empty',
          'v1 a 1 2 683af69a device/small',
        ]);
      });
    });

    describe('timers and clock', () => {
      test('now() is monotonic and the simulator clock counts as set', () => {
        expect(lines).toContain('smoke: timers now monotonic yes');
        expect(lines).toContain('smoke: clock set');
      });
    });

    describe('TLS transport on SecureSocket', () => {
      test('echoes 40000 bytes through back-pressure after skipping an expired root', () => {
        expect(lines).toContain(`host [warn] tls: trusted CA not used for 127.0.0.1:${echo.port}: CA 1: date validation failed`);
        const at = lines.indexOf('smoke: tls connected');
        expect(at).toBeGreaterThan(0);
        expect(lines.slice(at, at + 4)).toEqual([
          'smoke: tls connected',
          `smoke: tls echo ok ${ECHO_BYTES} bytes`,
          'smoke: tls back-pressure seen',
          'smoke: tls closed by local',
        ]);
      });

      test('authenticates with a client certificate and key', () => {
        expect(lines).toContain('smoke: tls client-cert answer client CN=smoke-device');
      });

      test('a server that wants a client certificate and gets none fails the handshake', () => {
        expect(lines.find((l) => l.startsWith('smoke: tls no-client-cert '))).toMatch(/^smoke: tls no-client-cert tls-handshake \(closed by error\)/);
      });

      test('a certificate for another name is tls-hostname', () => {
        expect(lines.find((l) => l.startsWith('smoke: tls wrong-name '))).toMatch(/^smoke: tls wrong-name tls-hostname \(closed by error\): .*"wrong\.example"/);
      });

      test('a chain no trusted CA signs is tls-verify', () => {
        expect(lines.find((l) => l.startsWith('smoke: tls wrong-ca '))).toMatch(/^smoke: tls wrong-ca tls-verify \(closed by error\)/);
      });

      test('a closed port is refused (or times out where the socket layer stays silent)', () => {
        expect(lines.find((l) => l.startsWith('smoke: tls closed-port '))).toMatch(/^smoke: tls closed-port (refused|timeout) \(closed by error\)/);
      });
    });

    describe('SNTP', () => {
      test('reads the time from a loopback SNTP server (when port 123 could be bound)', () => {
        if (!sntp) {
          console.log('SNTP part not run: 127.0.0.1:123 could not be bound');
          return;
        }
        expect(lines).toContain(`smoke: sntp ok ${SNTP_SECONDS}`);
      });
    });
  });
}
