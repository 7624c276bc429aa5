// `iot-store modem ...`: security tags written into an nRF91 modem with AT%CMNG over a serial device (or the
// modem emulator's TCP stand-in for the UART), and listed without secrets. The modem keeps the credentials; the
// device's configuration then names the tag (`securityTag`) and its key never exists in JS.
//
// AT%CMNG (nRF91 AT command reference): 0 write, 1 list, 3 delete; types 0 root CA, 1 client certificate,
// 2 client private key; writes only while the modem is offline (+CFUN=4), so a write goes offline, writes and
// goes back online (+CFUN=1). PEM content is sent quoted with CRLF line ends.
import { parseArgs } from 'node:util';
import { createNodeTimers } from '../../hosts/node/node-timers';
import { createDeviceSerialPort, createTcpSerialPort } from '../../hosts/node/serial-ports';
import { AtChannel, type AtResult } from '../../src/modem/at-channel';
import { answerFields } from '../../src/modem/slm';
import type { SerialPortFactory } from '../../src/ports';
import { isTagNumber, MAX_TAG } from '../../src/storage/security-tags';
import { CliError } from './cli-error';
import { checkKeyMatchesCertificate, readCertificates, readPrivateKey } from './credential-files';

export const MODEM_USAGE = `usage: iot-store modem (--tcp HOST:PORT | --device PATH) <command>

  write N [--ca FILE] [--cert FILE] [--key FILE]
      Writes security tag N into the modem with AT%CMNG (root CA, client certificate chain, private key). The
      modem goes offline (AT+CFUN=4) for the write and online again after. The key is checked against the leaf.
  delete N [--part ca|cert|key]   deletes the parts given (all three when none)
  list [--json]                   the modem's tags: number, type and the SHA-256 the modem reports, never content

  --device is a UART (/dev/ttyACM0; set it up first: stty -F /dev/ttyACM0 115200 raw -echo); --tcp reaches the
  modem emulator (emulator/src/modem). Exit codes: 0 done, 2 bad input, 1 the modem refused or did not answer.`;

const TYPES = { ca: 0, cert: 1, key: 2 } as const;
const TYPE_NAMES = ['root CA', 'client certificate', 'client private key'];

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\r\n');
  return `-----BEGIN ${label}-----\r\n${b64}-----END ${label}-----`;
}

function serialFrom(values: { tcp?: string; device?: string }): SerialPortFactory {
  if ((values.tcp === undefined) === (values.device === undefined)) throw new CliError('give the modem as --tcp HOST:PORT or --device PATH');
  if (values.device !== undefined) return createDeviceSerialPort(values.device);
  const match = /^([^:]+):([0-9]{1,5})$/.exec(values.tcp!);
  if (!match) throw new CliError('--tcp must be HOST:PORT');
  return createTcpSerialPort(match[1]!, Number(match[2]));
}

class Modem {
  private readonly channel: AtChannel;
  private closed: string | undefined;

  constructor(serial: SerialPortFactory) {
    this.channel = new AtChannel(serial, createNodeTimers(), { maxLineBytes: 512, maxDataBytes: 0, dataModeDelayMs: 0, maxQueued: 4 }, {
      urc: () => undefined,
      refused: () => undefined,
      closed: (message) => void (this.closed = message),
    });
    this.channel.open();
  }

  run(line: string, prefix?: string, timeoutMs = 10_000): Promise<AtResult> {
    return new Promise((resolve) => this.channel.run({ line, timeoutMs, ...(prefix ? { prefix } : {}) }, resolve));
  }

  async must(line: string, what: string, prefix?: string): Promise<string[]> {
    const result = await this.run(line, prefix);
    if (result.ok) return result.value.lines;
    const why = result.error.kind === 'error' ? result.error.text : result.error.message;
    throw new CliError(`${what}: the modem answered ${why}${this.closed ? ` (${this.closed})` : ''}`, 1);
  }

  close(): void {
    this.channel.close();
  }
}

export async function runModemCommand(argv: string[], out: (text: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { tcp: { type: 'string' }, device: { type: 'string' }, ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, part: { type: 'string', multiple: true }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('. ')[0]} (run with modem --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(MODEM_USAGE);
    return 0;
  }
  const [command, tagText, ...rest] = positionals;
  if (rest.length > 0) throw new CliError('too many arguments');
  if (command !== 'write' && command !== 'delete' && command !== 'list') throw new CliError(`unknown modem command (run with modem --help)`);
  let tag = 0;
  if (command !== 'list') {
    tag = tagText !== undefined && /^[0-9]{1,10}$/.test(tagText) ? Number(tagText) : -1;
    if (!isTagNumber(tag)) throw new CliError(`the tag must be an integer 0..${MAX_TAG}`);
  } else if (tagText !== undefined) throw new CliError('list takes no tag');

  // Files are read and checked before the modem is touched.
  const writes: { type: number; content: string }[] = [];
  if (command === 'write') {
    const certs = values.cert === undefined ? undefined : readCertificates('--cert', values.cert);
    if (values.ca !== undefined) writes.push({ type: TYPES.ca, content: readCertificates('--ca', values.ca).map((d) => pem('CERTIFICATE', d)).join('\r\n') });
    if (certs) writes.push({ type: TYPES.cert, content: certs.map((d) => pem('CERTIFICATE', d)).join('\r\n') });
    if (values.key !== undefined) {
      const key = readPrivateKey('--key', values.key);
      if (certs) checkKeyMatchesCertificate(certs[0]!, key.key, values.cert!, values.key);
      writes.push({ type: TYPES.key, content: pem('PRIVATE KEY', key.der) });
    }
    if (writes.length === 0) throw new CliError('write needs --ca, --cert or --key');
  }
  const parts = (values.part ?? ['ca', 'cert', 'key']).map((p) => {
    if (!(p in TYPES)) throw new CliError('--part must be ca, cert or key');
    return TYPES[p as keyof typeof TYPES];
  });

  const modem = new Modem(serialFrom(values));
  try {
    await modem.must('AT', 'the modem does not answer AT');
    if (command === 'list') {
      const lines = await modem.must('AT%CMNG=1', 'listing the tags', '%CMNG:');
      const tags = lines.map((line) => {
        const [t, type, sha] = answerFields(line);
        return { tag: Number(t), type: Number(type), sha256: (sha ?? '').replace(/"/g, '') };
      });
      if (values.json) out(JSON.stringify({ tags }, null, 2));
      else if (tags.length === 0) out('the modem holds no security tags');
      else for (const t of tags) out(`tag ${t.tag}: ${TYPE_NAMES[t.type] ?? `type ${t.type}`}, sha256 ${t.sha256}`);
      return 0;
    }
    const wasOnline = (await modem.must('AT+CFUN?', 'reading the modem mode', '+CFUN:'))[0] === '+CFUN: 1';
    await modem.must('AT+CFUN=4', 'taking the modem offline');
    try {
      if (command === 'write') {
        for (const w of writes) {
          // An existing part is replaced: delete it first (the modem refuses to write over it on older firmware).
          await modem.run(`AT%CMNG=3,${tag},${w.type}`);
          await modem.must(`AT%CMNG=0,${tag},${w.type},"${w.content}"`, `writing the ${TYPE_NAMES[w.type]} of tag ${tag}`);
          out(`tag ${tag}: ${TYPE_NAMES[w.type]} written`);
        }
      } else {
        for (const type of parts) {
          const result = await modem.run(`AT%CMNG=3,${tag},${type}`);
          if (result.ok) out(`tag ${tag}: ${TYPE_NAMES[type]} deleted`);
          else if (result.error.kind === 'error' && result.error.text === '+CME ERROR: 513') out(`tag ${tag}: no ${TYPE_NAMES[type]}`);
          else throw new CliError(`deleting the ${TYPE_NAMES[type]} of tag ${tag}: the modem answered ${result.error.kind === 'error' ? result.error.text : result.error.message}`, 1);
        }
      }
    } finally {
      if (wasOnline) await modem.run('AT+CFUN=1');
    }
    return 0;
  } finally {
    modem.close();
  }
}
