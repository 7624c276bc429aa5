// The one event emitter of src/, typed and the same on XS and Node (no host EventEmitter). Classes with events
// extend Emitter: on/once/off are written once here, emit stays protected so only the owner raises its events.
// A throwing listener is handed to listenerFailed() instead of unwinding into the emitter's caller, so one bad
// handler cannot break a protocol state machine mid-transition; owners override it to log.

type Listener<T> = (payload: T) => void;

export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners: { [K in keyof Events]?: Listener<Events[K]>[] } = {};

  /** Subscribes; the returned function unsubscribes. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const list = (this.listeners[event] ??= []);
    list.push(listener);
    return () => this.off(event, listener);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const list = this.listeners[event];
    if (!list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners[event]?.length ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.listeners[event];
    if (!list) return;
    for (const listener of list.slice()) {
      try {
        listener(payload);
      } catch (error) {
        this.listenerFailed(error, String(event));
      }
    }
  }

  /** A listener threw; the default drops it. */
  protected listenerFailed(_error: unknown, _event: string): void {}
}
