// A typed facade over node:events for the hub's events; a throwing listener is logged, never breaks the hub.
import { EventEmitter } from 'node:events';

export class HubEmitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (error: unknown) => void) {
    this.emitter.setMaxListeners(0);
  }

  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    const safe = (payload: Events[K]): void => {
      try {
        listener(payload);
      } catch (error) {
        this.onListenerError(error);
      }
    };
    this.emitter.on(event, safe);
    return () => this.emitter.off(event, safe);
  }

  emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    this.emitter.emit(event, payload);
  }

  removeAll(): void {
    this.emitter.removeAllListeners();
  }
}
