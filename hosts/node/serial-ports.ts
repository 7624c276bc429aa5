// SerialPortFactory on Node without native modules: a TCP stand-in for a UART (the modem emulator listens on
// one), or a character device (/dev/ttyACM0, a pty) read and written as a file; set its baud rate beforehand
// (`stty -F /dev/ttyACM0 115200 raw -echo`).
import { createReadStream, createWriteStream } from 'node:fs';
import { connect } from 'node:net';
import type { SerialPort, SerialPortEvents, SerialPortFactory } from '../../src/ports';

export function createTcpSerialPort(host: string, port: number): SerialPortFactory {
  return {
    open(events: SerialPortEvents): SerialPort {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      let closed = false;
      socket.on('data', (chunk: Buffer) => events.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (closed) return;
        closed = true;
        events.onClose(`${host}:${port} closed`);
      });
      return {
        write: (bytes) => !closed && socket.write(bytes),
        close: () => {
          closed = true;
          socket.destroy();
        },
      };
    },
  };
}

export function createDeviceSerialPort(path: string): SerialPortFactory {
  return {
    open(events: SerialPortEvents): SerialPort {
      const input = createReadStream(path, { flags: 'r' });
      const output = createWriteStream(path, { flags: 'w' });
      let closed = false;
      const end = (message: string): void => {
        if (closed) return;
        closed = true;
        input.destroy();
        output.destroy();
        events.onClose(message);
      };
      input.on('data', (chunk) => {
        const bytes = chunk as Buffer;
        events.onData(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      });
      input.on('error', (error) => end(error.message));
      output.on('error', (error) => end(error.message));
      input.on('end', () => end(`${path} ended`));
      return {
        write: (bytes) => !closed && output.write(bytes),
        close: () => {
          if (closed) return;
          closed = true;
          input.destroy();
          output.destroy();
        },
      };
    },
  };
}
