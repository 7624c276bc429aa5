// The update slot of a FOTA build on ESP32: the next OTA partition through Moddable's `ota` module. The image
// carries its own version, so what runs is always the built-in one.
import { EspOtaSlot } from './ota-slot';
import type { FotaSlot } from './fota-slot';

export function createFotaSlot(_fileRoot: string, builtInVersion: string, capacity: number): FotaSlot {
  return { slot: new EspOtaSlot(capacity), startVersion: () => builtInVersion };
}
