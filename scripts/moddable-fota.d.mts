export const FOTA_ENTRY: string;
export const FOTA_MANIFEST: string;
/** Writes tweetnacl as an ES module (and its typings) into `outDir` (default build/moddable-fota); returns it. */
export function writeTweetnaclModule(outDir?: string): string;
export function fotaModules(): Promise<string[]>;
export function withFotaModules(manifest: Record<string, unknown>, modules: string[]): Record<string, unknown>;
