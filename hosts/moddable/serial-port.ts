// SerialPortFactory on ECMA-419's embedded:io/serial (the UART to an nRF91 modem): reads what onReadable says is
// there, hands it on from a later turn (never from inside the IO callback), and writes through a small queue
// because a write that does not fit the driver's buffer throws (Linux: 1024 bytes) until onWritable.
import Serial from 'embedded:io/serial';
import Timer from 'timer';
import { errorText } from '../../src/errors';
import type { SerialPort, SerialPortEvents, SerialPortFactory } from '../../src/ports';

export interface ModdableSerialSettings {
  baud: number;
  /** Linux (mcsim): the character device, e.g. a pty's slave. */
  device?: string;
  /** Boards: the UART pins. */
  transmit?: number;
  receive?: number;
}

/** What one driver write takes at most (the Linux driver's buffer). */
const WRITE_CHUNK = 1024;

export function createModdableSerialPort(settings: ModdableSerialSettings): SerialPortFactory {
  return {
    open(events: SerialPortEvents): SerialPort {
      const queue: Uint8Array[] = [];
      let closed = false;
      let waiting = false;
      let serial: Serial | undefined;
      const end = (message: string): void => {
        if (closed) return;
        closed = true;
        try {
          serial?.close();
        } catch {
          // already gone
        }
        Timer.set(() => events.onClose(message));
      };
      const flush = (): void => {
        while (!closed && queue.length > 0 && serial) {
          const head = queue[0]!;
          const piece = head.length > WRITE_CHUNK ? head.subarray(0, WRITE_CHUNK) : head;
          // The driver takes an ArrayBuffer of exactly the bytes: a view's own buffer may hold more.
          const buffer = piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength ? (piece.buffer as ArrayBuffer) : piece.slice().buffer;
          try {
            serial.write(buffer);
          } catch {
            waiting = true; // full: onWritable resumes
            return;
          }
          if (piece === head) queue.shift();
          else queue[0] = head.subarray(WRITE_CHUNK);
        }
        waiting = false;
      };
      try {
        // Built loosely and cast once: the SDK's own typings of the options differ per platform (pins or device).
        const options: Record<string, unknown> = {
          baud: settings.baud,
          format: 'buffer',
          onReadable(count: number) {
            const bytes = count > 0 ? serial?.read(count) : undefined;
            if (bytes === undefined || closed) return;
            const chunk = new Uint8Array(bytes);
            Timer.set(() => {
              if (!closed) events.onData(chunk);
            });
          },
          onWritable() {
            if (waiting) flush();
          },
          onError() {
            end('the serial port reported an error');
          },
        };
        if (settings.device !== undefined) options['device'] = settings.device;
        if (settings.transmit !== undefined) options['transmit'] = settings.transmit;
        if (settings.receive !== undefined) options['receive'] = settings.receive;
        serial = new Serial(options as unknown as ConstructorParameters<typeof Serial>[0]);
      } catch (error) {
        end(`cannot open the serial port: ${errorText(error)}`);
      }
      return {
        write(bytes: Uint8Array): boolean {
          if (closed) return false;
          queue.push(bytes);
          if (!waiting) flush();
          return !waiting;
        },
        close(): void {
          end('closed by the application');
        },
      };
    },
  };
}
