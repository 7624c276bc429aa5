// "ota" (build/devices/esp32/modules/ota: ota.js, ota.c), ESP32 only: writes the next OTA app partition.
// The constructor calls esp_ota_begin on the next update partition (erasing it; byteLength sizes the erase), write
// appends (esp_ota_write, sequential only), complete ends the write and sets that partition to boot next
// (esp_ota_end + esp_ota_set_boot_partition), cancel abandons it. Each throws on an ESP-IDF error.
declare module 'ota' {
  class OTA {
    constructor(options?: { byteLength?: number });
    write(data: ArrayBuffer | ArrayBufferView): void;
    complete(): void;
    cancel(): void;
  }
  export default OTA;
}
