// The transport selector: what the failure policy's transportForAttempt decides, carried out per connection of one
// service. Scripted TLS underneath, so every connection's target and kind is visible.
import { describe, expect, test } from '@jest/globals';
import { ScriptedTransportFactory } from '../../hosts/virtual/scripted-transport';
import type { TransportFactory } from '../../src/ports';
import { TransportSelector } from '../../src/ws/transport-select';
import { recordTransport } from '../helpers/transport-recorder';

const OPTIONS = { host: 'hub.azure-devices.net', port: 8883, trustedCAs: [] };

function setup(fallbackAfter: number, wsEndpoint?: { host: string; port: number }) {
  const tls = new ScriptedTransportFactory();
  const wsOpened: string[] = [];
  const ws: TransportFactory = {
    connect: (options, events) => {
      wsOpened.push(`${options.host}:${options.port} sni ${options.serverName}`);
      return tls.connect(options, events);
    },
  };
  const logs: string[] = [];
  const choice = wsEndpoint === undefined ? { configured: 'mqtt' as const, fallbackAfter } : { configured: 'mqtt' as const, fallbackAfter, wsEndpoint };
  const selector = new TransportSelector(tls, ws, choice, { log: (_l, m) => void logs.push(m) }, 'hub');
  return { tls, wsOpened, logs, selector };
}

describe('the selector counts attempts whose transport never came up', () => {
  test('two refused MQTT attempts, then WebSockets on the same host, port 443, SNI the hub name', () => {
    const { tls, wsOpened, logs, selector } = setup(2);
    for (let i = 0; i < 2; i++) {
      selector.connect(OPTIONS, recordTransport().events);
      tls.last.fail({ code: 'refused', message: 'refused' });
    }
    expect(selector.next).toBe('mqtt-ws');
    selector.connect(OPTIONS, recordTransport().events);
    expect(wsOpened).toEqual(['hub.azure-devices.net:443 sni hub.azure-devices.net']);
    expect(logs).toEqual(['hub: MQTT to hub.azure-devices.net:8883', 'hub: MQTT over WebSockets to hub.azure-devices.net:443 after 2 failed attempt(s)']);
  });

  test('a transport that came up resets the count; a later drop is not a failed attempt', () => {
    const { tls, selector } = setup(2);
    selector.connect(OPTIONS, recordTransport().events);
    tls.last.fail({ code: 'timeout', message: 'timeout' });
    selector.connect(OPTIONS, recordTransport().events);
    tls.last.open();
    tls.last.peerClose();
    selector.connect(OPTIONS, recordTransport().events);
    tls.last.fail({ code: 'refused', message: 'refused' });
    expect(selector.next).toBe('mqtt');
  });

  test('closing an attempt ourselves is not a failure; the WebSocket endpoint can be set', () => {
    const { tls, wsOpened, selector } = setup(1, { host: '127.0.0.1', port: 9443 });
    selector.connect(OPTIONS, recordTransport().events).close();
    expect(selector.next).toBe('mqtt');
    selector.connect(OPTIONS, recordTransport().events);
    tls.last.fail({ code: 'reset', message: 'reset' });
    selector.connect(OPTIONS, recordTransport().events);
    expect(wsOpened).toEqual(['127.0.0.1:9443 sni hub.azure-devices.net']);
  });

  test('without a WebSocket transport in the image, MQTT only', () => {
    const tls = new ScriptedTransportFactory();
    const selector = new TransportSelector(tls, undefined, { configured: 'mqtt', fallbackAfter: 1 }, { log: () => {} }, 'dps');
    selector.connect(OPTIONS, recordTransport().events);
    tls.last.fail({ code: 'refused', message: 'refused' });
    expect(selector.next).toBe('mqtt');
  });
});
