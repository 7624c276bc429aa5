// The firmware on a host MCU wired to an nRF91 running Nordic's Serial LTE Modem (an nRF52840 board; mcsim over
// a pty in the tests): the modem transport (src/modem) over embedded:io/serial replaces SecureSocket, the modem's
// security tag holds the X.509 key (`securityTag`), and when the clock is not set the modem's network time
// (AT+CCLK?) sets it, since such a board has no IP network for SNTP. The manifest's nrf52 section makes this the
// main module. Settings (manifest `config`): modemDevice (Linux) or modemTransmit and modemReceive (pins),
// modemBaud (default 115200), modemSecondaryTag, modemPollMs.
import Time from 'time';
import type { HostPorts } from '../../src/ports';
import { SlmModem } from '../../src/modem/modem-transport';
import { parseCclk } from '../../src/modem/slm';
import { startOnModdable } from './main-moddable';
import { createModdableSerialPort, type ModdableSerialSettings } from './serial-port';

function whole(config: Readonly<Record<string, unknown>>, field: string): number | undefined | string {
  const value = config[field];
  if (value === undefined || value === '') return undefined;
  const text = String(value).trim();
  return /^[0-9]{1,10}$/.test(text) ? Number(text) : `${field} must be a whole number`;
}

function setClockFromModem(host: HostPorts, modem: SlmModem): void {
  if (host.clock.unixMs() !== undefined) return;
  const ask = (): void => {
    modem.run({ line: 'AT+CCLK?', prefix: '+CCLK:', timeoutMs: 5000 }, (result) => {
      const ms = result.ok ? parseCclk(result.value.lines) : undefined;
      if (ms === undefined) {
        host.timers.setTimeout(ask, 10_000);
        return;
      }
      Time.set(Math.floor(ms / 1000));
      host.logger.log('info', `main: wall clock set from the LTE network: ${new Date(ms).toISOString()}`);
    });
  };
  modem.on('registration', ({ registered }) => {
    if (registered && host.clock.unixMs() === undefined) ask();
  });
}

export default function main(): unknown {
  return startOnModdable((host, config) => {
    const numbers: Record<string, number | undefined> = {};
    for (const field of ['modemBaud', 'modemTransmit', 'modemReceive', 'securityTag', 'modemSecondaryTag', 'modemPollMs']) {
      const value = whole(config, field);
      if (typeof value === 'string') return value;
      numbers[field] = value;
    }
    const device = typeof config['modemDevice'] === 'string' && config['modemDevice'] !== '' ? config['modemDevice'] : undefined;
    if (device === undefined && (numbers['modemTransmit'] === undefined || numbers['modemReceive'] === undefined)) {
      return 'modemDevice (Linux) or modemTransmit and modemReceive (pins) name the UART to the modem';
    }
    const serial: ModdableSerialSettings = { baud: numbers['modemBaud'] ?? 115200 };
    if (device !== undefined) serial.device = device;
    if (numbers['modemTransmit'] !== undefined) serial.transmit = numbers['modemTransmit'];
    if (numbers['modemReceive'] !== undefined) serial.receive = numbers['modemReceive'];
    const tags = { primary: numbers['securityTag'] ?? 0, ...(numbers['modemSecondaryTag'] !== undefined ? { secondary: numbers['modemSecondaryTag'] } : {}) };
    const modem = new SlmModem(createModdableSerialPort(serial), host.timers, { tags, ...(numbers['modemPollMs'] !== undefined ? { pollIntervalMs: numbers['modemPollMs'] } : {}) }, (m) => host.logger.log('error', `modem: ${m}`));
    modem.on('registration', (r) => host.logger.log('info', `modem: LTE ${r.registered ? 'registered' : 'not registered'} (+CEREG: ${r.stat})`));
    modem.on('signal', (s) => host.logger.log('info', `modem: RSRP ${s.rsrpDbm} dBm`));
    modem.on('refused', (r) => host.logger.log('warn', `modem: refused UART input (${r.reason})`));
    host.transport = modem.transportFactory();
    setClockFromModem(host, modem);
    modem.start();
    return { platform: { keysInModem: true }, ownClock: true };
  });
}
