// The emulator as its own process for the end-to-end benchmark, so it runs on the other core and the clients
// under test compete only with each other. Prints one JSON line (ports, CA, device keys), then serves until
// its stdin closes. Run by emulator-child.ts as `node --import tsx bench/e2e/emulator-process.ts <oneWayMs> <ids...>`.
import { Emulator } from '../../emulator/src/emulator';
import { createTlsMaterial } from '../../emulator/src/tls-material';
import { startDelayRelay } from './delay-relay';

export interface EmulatorHandshake {
  hubPort: number;
  /** The same hub's MQTT over WebSockets endpoint. */
  hubWsPort: number;
  /** The same hub behind the delay relay. */
  relayPort: number;
  relayOneWayMs: number;
  hubHostName: string;
  caPem: string;
  keys: Record<string, string>;
}

async function main(): Promise<void> {
  const oneWayMs = Number(process.argv[2] ?? '25');
  const deviceIds = process.argv.slice(3);
  // A plain host name: device SDKs refuse a port in the host they sign for; they reach the port as a gateway.
  const emulator = await Emulator.start({ persist: false, dps: false, tls: createTlsMaterial(), telemetryHistory: 10, hubHostName: 'localhost', hubWsPort: 0 });
  const keys: Record<string, string> = {};
  for (const deviceId of deviceIds) {
    const record = emulator.addDevice(deviceId);
    if (record.auth.type !== 'sas') throw new Error('expected a SAS device');
    keys[deviceId] = record.auth.primaryKey;
  }
  const relay = await startDelayRelay({ host: '127.0.0.1', port: emulator.hubPort }, oneWayMs);
  const handshake: EmulatorHandshake = {
    hubPort: emulator.hubPort,
    hubWsPort: emulator.hubWsPort!,
    relayPort: relay.port,
    relayOneWayMs: oneWayMs,
    hubHostName: emulator.hubHostName,
    caPem: emulator.caPem,
    keys,
  };
  process.stdout.write(`${JSON.stringify(handshake)}\n`);
  const stop = async (): Promise<void> => {
    await relay.close();
    await emulator.stop();
    process.exit(0);
  };
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.stdin.resume();
}

main().catch((error: unknown) => {
  process.stderr.write(`emulator process: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
