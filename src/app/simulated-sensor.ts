// Readings for boards without a sensor (and for the simulator, Node and tests): a temperature and a humidity
// that drift slowly around plausible room values. Driven by a small seeded generator instead of the crypto port
// so the same seed always gives the same series, on XS as on Node, which lets tests assert exact payloads.

export interface SensorReading {
  /** Degrees Celsius. */
  temperature: number;
  /** Relative humidity, percent. */
  humidity: number;
}

/** Where readings come from: a board's driver, or the simulation below. */
export interface SensorPort {
  /** Human-readable, for the boot log ("simulated", "SHT31 on I2C 0x44"...). */
  readonly description: string;
  /** undefined when the sensor has nothing to say right now (not ready, bus error): that tick sends nothing. */
  read(): SensorReading | undefined;
}

/** Mulberry32: 32-bit state, good enough spread for a simulation, tiny and exact in every engine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE_TEMPERATURE = 21.5;
const BASE_HUMIDITY = 45;

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}

/** Two decimals, as a real sensor reports; also keeps JSON payloads short and stable. */
function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

export function createSimulatedSensor(seed: number): SensorPort {
  const random = seededRandom(seed);
  let temperature = BASE_TEMPERATURE + (random() - 0.5) * 2;
  let humidity = BASE_HUMIDITY + (random() - 0.5) * 10;
  return {
    description: `simulated (seed ${seed})`,
    read() {
      // A random walk pulled back towards the base value, so it wanders but never runs away.
      temperature = clamp(temperature + (random() - 0.5) * 0.6 + (BASE_TEMPERATURE - temperature) * 0.05, 15, 30);
      humidity = clamp(humidity + (random() - 0.5) * 2 + (BASE_HUMIDITY - humidity) * 0.05, 20, 80);
      return { temperature: round2(temperature), humidity: round2(humidity) };
    },
  };
}
