// Stand-in for Moddable's "file" module (hosts/moddable/typings/file.d.ts), mapped by jest.config.js, on node:fs
// with the lin implementation's semantics (modules/files/file/lin): `new File(path, true)` opens read-write and
// creates the file when missing, never truncating; reads and writes move `position`; rename takes a new name
// (resolved in the same folder) or a full path and replaces an existing target, as rename(2) does.
import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class File {
  private readonly fd: number;
  position = 0;

  constructor(path: string, write = false) {
    if (!write && !existsSync(path)) throw new Error(`file: ${path} not found`);
    this.fd = openSync(path, write ? (existsSync(path) ? 'r+' : 'w+') : 'r');
  }

  get length(): number {
    return fstatSync(this.fd).size;
  }

  read(type: typeof ArrayBuffer | typeof String, bytes?: number): ArrayBuffer | string {
    const count = Math.min(bytes ?? this.length - this.position, this.length - this.position);
    const buffer = Buffer.alloc(count);
    readSync(this.fd, buffer, 0, count, this.position);
    this.position += count;
    return type === String ? buffer.toString('utf8') : buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + count);
  }

  write(value: ArrayBuffer | string, ...more: (ArrayBuffer | string)[]): void {
    for (const part of [value, ...more]) {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(new Uint8Array(part));
      writeSync(this.fd, bytes, 0, bytes.length, this.position);
      this.position += bytes.length;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  static delete(path: string): boolean {
    if (!existsSync(path)) return false;
    rmSync(path);
    return true;
  }

  static exists(path: string): boolean {
    return existsSync(path);
  }

  static rename(from: string, to: string): boolean {
    renameSync(from, to.includes('/') ? to : join(dirname(from), to));
    return true;
  }
}
