// Wraps a TransportFactory and decodes what the device writes, keeping its CONNECT packets: the SAS tokens it
// really sent, so a secrets scan can look for their signatures everywhere else.

import type { ConnectPacket } from '../../src/mqtt/packets';
import { clientStreamParser } from '../../src/mqtt/broker-codec';
import type { TransportFactory } from '../../src/ports';

export interface ConnectRecorder {
  factory: TransportFactory;
  connects: ConnectPacket[];
}

export function connectRecorder(inner: TransportFactory): ConnectRecorder {
  const connects: ConnectPacket[] = [];
  const factory: TransportFactory = {
    connect(options, events) {
      const transport = inner.connect(options, events);
      const parser = clientStreamParser();
      return {
        write(bytes) {
          for (const result of parser.push(bytes.slice())) {
            if (result.ok && result.value.type === 'connect') connects.push(result.value);
          }
          return transport.write(bytes);
        },
        close() {
          transport.close();
        },
      };
    },
  };
  return { factory, connects };
}
