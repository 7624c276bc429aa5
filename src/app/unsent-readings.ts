// Readings a hub client still held when it was closed under them. The boot flow closes the client when it asks
// DPS again (the device may have moved hubs); the next client sends these first, so a re-provisioning loses no
// reading. Bounded: past the limit the oldest reading goes, since a newer one describes the device better.

export interface CarriedReading {
  /** The loop's sequence number, kept so logs can follow one reading across clients. */
  n: number;
  body: string;
  summary: string;
}

export class UnsentReadings {
  private readonly readings: CarriedReading[] = [];
  private droppedCount = 0;

  constructor(private readonly limit = 64) {}

  /** Keeps a reading; returns the one pushed out to make room, if any. */
  keep(reading: CarriedReading): CarriedReading | undefined {
    this.readings.push(reading);
    if (this.readings.length <= this.limit) return undefined;
    this.droppedCount++;
    return this.readings.shift();
  }

  /** Everything kept, oldest first; the carry is empty afterwards. */
  takeAll(): CarriedReading[] {
    return this.readings.splice(0, this.readings.length);
  }

  get size(): number {
    return this.readings.length;
  }

  /** Readings pushed out because the carry was full. */
  get dropped(): number {
    return this.droppedCount;
  }
}
