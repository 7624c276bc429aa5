// The modem emulator for people: `npx tsx emulator/src/modem/modem-cli.ts [--port N] [--no-network]`. Listens on
// 127.0.0.1:N (default 7001) as the UART of an emulated nRF91 running the Serial LTE Modem; write a tag into it
// with `npm run iot-store -- modem --tcp 127.0.0.1:N write ...`, then run the device with
// `npm run device -- --modem-tcp 127.0.0.1:N --security-tag ...`. Tags live as long as the process. Ctrl-C stops it.
import { parseArgs } from 'node:util';
import { ModemEmulator } from './modem-emulator';

const { values } = parseArgs({ options: { port: { type: 'string' }, 'no-network': { type: 'boolean' }, verbose: { type: 'boolean' } }, strict: true });
const port = values.port === undefined ? 7001 : Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('modem-cli: --port must be 1..65535\n');
  process.exit(2);
}
const modem = await ModemEmulator.start({
  port,
  network: !values['no-network'],
  ...(values.verbose ? { log: (line: string) => process.stdout.write(`${line}\n`) } : {}),
});
process.stdout.write(`modem emulator (Serial LTE Modem AT subset) listening on 127.0.0.1:${modem.port}\n`);
const stop = (): void => {
  void modem.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
