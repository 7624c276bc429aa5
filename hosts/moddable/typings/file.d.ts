// "file" (documentation/files/files.md, class File): files on the SPIFFS/LittleFS partition of a board and in the
// simulator's home folder on lin. The SDK's typings/file.d.ts declares the same shape.
declare module 'file' {
  export class File {
    constructor(path: string, write?: boolean);
    read(type: typeof ArrayBuffer, bytes?: number): ArrayBuffer;
    read(type: typeof String, bytes?: number): string;
    write(value: ArrayBuffer | string, ...moreValues: (ArrayBuffer | string)[]): void;
    close(): void;
    readonly length: number;
    position: number;
    static delete(path: string): boolean;
    static exists(path: string): boolean;
    static rename(from: string, to: string): boolean;
  }
}
