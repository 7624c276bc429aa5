// The firmware with MQTT over WebSockets built in: main-moddable.ts with src/ws's client wired in (a HostWiring).
// Optional, so an image that only speaks MQTT on 8883 carries none of the WebSocket code (about 12 KB of
// bytecode): a project opts in by including hosts/moddable/manifest_ws.json after manifest.json (it makes this
// module the main one), then sets `transport` ("mqtt-ws") or `wsFallbackAfter` in `config`.
import type { Firmware } from '../../src/main';
import { webSocketTransport } from '../../src/ws/ws-transport';
import { startOnModdable } from './main-moddable';

export default function main(): Firmware | undefined {
  return startOnModdable(() => ({ platform: { webSocket: webSocketTransport }, ownClock: false }));
}
