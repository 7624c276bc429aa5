// The AT dialogue pinned byte for byte to the examples in Nordic's SLM docs (nrfconnect/sdk-nrf,
// applications/serial_lte_modem/doc/SOCKET_AT_commands.rst) and the nRF91 AT command reference (+CEREG):
// the commands the device writes, how it reads the modem's answers, and what the modem emulator answers.
// Answers are framed as SLM frames them (each line as CRLF <line> CRLF, see slm_at_socket.c); the doc pages show
// the lines only.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connect, type Socket } from 'node:net';
import { ModemEmulator } from '../../emulator/src/modem/modem-emulator';
import { VirtualClock } from '../../hosts/virtual/virtual-clock';
import { AtChannel, type AtResult } from '../../src/modem/at-channel';
import * as slm from '../../src/modem/slm';
import type { SerialPortEvents } from '../../src/ports';

/** Doc examples: the command, then the modem's lines up to the final result. */
const EXAMPLES: { command: string; answer: string[]; prefix?: string }[] = [
  { command: 'AT#XSSOCKET=1,1,0,16842753,2', answer: ['#XSSOCKET: 2,1,258', 'OK'], prefix: '#XSSOCKET:' },
  { command: 'AT#XSSOCKET?', answer: ['#XSSOCKET: 2,1,0,1,16842753,0', 'OK'], prefix: '#XSSOCKET:' },
  { command: 'AT#XSSOCKETOPT=1,5,2', answer: ['OK'] },
  { command: 'AT#XCONNECT="test.server.com",1234', answer: ['#XCONNECT: 1', 'OK'], prefix: '#XCONNECT:' },
  { command: 'AT#XSEND="Test TCP"', answer: ['#XSEND: 8', 'OK'], prefix: '#XSEND:' },
  { command: 'AT#XRECV=10', answer: ['#XRECV: 7', 'Test OK', 'OK'], prefix: '#XRECV:' },
  { command: 'AT#XPOLL=2000,0', answer: ['#XPOLL: 0,"0x0001"', 'OK'], prefix: '#XPOLL:' },
  { command: 'AT#XSOCKET=0', answer: ['#XSOCKET: 0,"closed"', 'OK'], prefix: '#XSOCKET:' },
  { command: 'AT+CEREG=2', answer: ['OK'] },
];

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const text = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

/** SLM's framing: every line as CRLF <line> CRLF; an #XRECV block is raw bytes right after its header. */
function framed(answer: string[]): string {
  let out = '';
  for (let i = 0; i < answer.length; i++) {
    const line = answer[i]!;
    if (i > 0 && answer[i - 1]!.startsWith('#XRECV: ')) out += line;
    else out += `\r\n${line}\r\n`;
  }
  return out;
}

describe('the device side: commands and answers of the doc examples', () => {
  test('the builders write the doc commands', () => {
    expect(slm.openSecureSocket(16842753)).toBe('AT#XSSOCKET=1,1,0,16842753,2');
    expect(slm.connectTo('test.server.com', 1234)).toBe('AT#XCONNECT="test.server.com",1234');
    expect(slm.CLOSE_SOCKET).toBe('AT#XSOCKET=0');
    expect(slm.receive(10)).toBe('AT#XRECV=10');
  });

  test('each doc command goes out as its bytes + CRLF, and the doc answer reads back as its lines', async () => {
    const clock = new VirtualClock();
    const written: string[] = [];
    let port: SerialPortEvents | undefined;
    const channel = new AtChannel(
      { open: (events) => ((port = events), { write: (bytes) => (written.push(text(bytes)), true), close: () => undefined }) },
      clock,
      { maxLineBytes: 256, maxDataBytes: 2048, dataModeDelayMs: 1, maxQueued: 4 },
      { urc: () => undefined, refused: () => undefined, closed: () => undefined },
    );
    channel.open();
    for (const example of EXAMPLES) {
      const data: string[] = [];
      let result: AtResult | undefined;
      written.length = 0;
      channel.run({ line: example.command, timeoutMs: 1000, ...(example.prefix ? { prefix: example.prefix } : {}), onData: (bytes) => void data.push(text(bytes)) }, (r) => (result = r));
      clock.advance(0);
      expect(written).toEqual([`${example.command}\r\n`]);
      port!.onData(ascii(framed(example.answer)));
      expect(result?.ok).toBe(true);
      const infoLines = example.answer.slice(0, -1).filter((line) => !example.answer[example.answer.indexOf(line) - 1]?.startsWith('#XRECV: '));
      expect(result?.ok && result.value.lines).toEqual(infoLines);
      expect(data.join('')).toBe(example.command === 'AT#XRECV=10' ? 'Test OK' : '');
    }
    expect(slm.socketHandle(['#XSSOCKET: 2,1,258'])).toBe(2);
    expect(slm.connected(['#XCONNECT: 1'])).toBe(true);
    expect(slm.pollEvents(['#XPOLL: 0,"0x0001"'], 0)).toBe(slm.POLLIN);
    expect(slm.parseCereg('+CEREG: 1,"002F","0012BEEF",7')).toEqual({ stat: 1 });
    expect(slm.parseCereg('+CEREG: 2')).toEqual({ stat: 2 });
  });
});

describe('the modem emulator answers the doc commands with the doc lines', () => {
  let modem: ModemEmulator;
  let uart: Socket;
  let received = '';

  beforeAll(async () => {
    modem = await ModemEmulator.start({ firstHandle: 2 });
    uart = connect({ host: '127.0.0.1', port: modem.port });
    uart.on('data', (chunk: Buffer) => void (received += chunk.toString('latin1')));
    await new Promise<void>((resolve) => uart.once('connect', () => resolve()));
  });

  afterAll(async () => {
    uart.destroy();
    await modem.stop();
  });

  async function ask(command: string, answerBytes: number): Promise<string> {
    received = '';
    uart.write(`${command}\r\n`);
    const started = Date.now();
    while (received.length < answerBytes && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 5));
    return received;
  }

  test.each(EXAMPLES.filter((e) => ['AT#XSSOCKET=1,1,0,16842753,2', 'AT#XSSOCKET?', 'AT#XSSOCKETOPT=1,5,2', 'AT#XSOCKET=0', 'AT+CEREG=2'].includes(e.command)))(
    '$command',
    async ({ command, answer }) => {
      expect(await ask(command, framed(answer).length)).toBe(framed(answer));
    },
  );
});
