// The part of the `ws` package (7.x, a devDependency; it ships no types) that emulator/src/ws-front.ts uses.
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, Server as HttpServer } from 'node:http';
  import type { Duplex } from 'node:stream';

  class WebSocket extends EventEmitter {
    terminate(): void;
    static createWebSocketStream(socket: WebSocket): Duplex;
  }

  namespace WebSocket {
    interface ServerOptions {
      server: HttpServer;
      path?: string;
      perMessageDeflate?: boolean;
      maxPayload?: number;
      handleProtocols?: (protocols: string[], request: IncomingMessage) => string | false;
    }
    class Server extends EventEmitter {
      constructor(options: ServerOptions);
      readonly clients: Set<WebSocket>;
      close(): void;
      on(event: 'connection', listener: (socket: WebSocket, request: IncomingMessage) => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
    }
  }

  export default WebSocket;
}
