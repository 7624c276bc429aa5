// Stand-in for Moddable's "ota" module (hosts/moddable/typings/ota.d.ts), mapped by jest.config.js: one fake
// next-OTA partition. The constructor erases it (esp_ota_begin), write appends, complete sets it to boot,
// cancel abandons it; calls after complete or cancel throw, as the ESP-IDF handle is gone then.
export const partition = { bytes: [] as number[], boot: false, begun: 0, cancelled: 0 };

export default class OTA {
  private open = true;

  constructor(options?: { byteLength?: number }) {
    void options;
    partition.bytes = [];
    partition.boot = false;
    partition.begun++;
  }

  write(data: ArrayBuffer | ArrayBufferView): void {
    if (!this.open) throw new Error('ota: handle closed');
    const view = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    partition.bytes.push(...view);
  }

  complete(): void {
    if (!this.open) throw new Error('ota: handle closed');
    this.open = false;
    partition.boot = true;
  }

  cancel(): void {
    if (!this.open) throw new Error('ota: handle closed');
    this.open = false;
    partition.cancelled++;
  }
}
