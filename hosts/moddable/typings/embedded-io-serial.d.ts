// "embedded:io/serial" (ECMA-419 serial IO class, Moddable's modules/io/serial): a UART. On Linux `device` names
// the character device (a pty works); on nRF52 and ESP32 `transmit` and `receive` name the pins.
declare module 'embedded:io/serial' {
  interface SerialOptions {
    baud: number;
    device?: string;
    port?: number;
    transmit?: number;
    receive?: number;
    format?: 'buffer';
    onReadable?: (this: Serial, count: number) => void;
    onWritable?: (this: Serial, count: number) => void;
    onError?: (this: Serial) => void;
  }
  class Serial {
    constructor(options: SerialOptions);
    /** The bytes available now (at most `count`), or undefined when none. */
    read(count?: number): ArrayBuffer | undefined;
    /** Throws when the bytes do not fit the output buffer. */
    write(data: ArrayBuffer): void;
    close(): void;
  }
  export default Serial;
}
