// A monotonic millisecond count from Moddable's Time.ticks. On microcontrollers ticks is a signed 32-bit value
// that wraps every 24.8 days, and on the Linux simulator it is the host's wall clock, which can step backwards.
// Summing Time.delta between readings gives a count that never wraps or goes back, provided it is read at
// least once per wrap period (the MQTT keepalive alone reads it every few minutes). Pure, tested on Node.

export function createMonotonicClock(readTicks: () => number, delta: (start: number, end: number) => number): () => number {
  let last = readTicks();
  let total = 0;
  return () => {
    const ticks = readTicks();
    const step = delta(last, ticks);
    last = ticks;
    // A backward step (simulator clock adjusted) is ignored rather than letting time run back.
    if (step > 0) total += step;
    return total;
  };
}
