// Types for scripts/moddable-manifest.mjs, for the tests that import it.
export declare const DEVICE_ENTRY: string;
export interface ModdableManifest {
  modules: Record<string, string | string[]>;
  preload: string[];
  platforms?: { esp32?: { preload?: string[] } & Record<string, unknown> } & Record<string, unknown>;
  [field: string]: unknown;
}
export declare const LOAD_TIME_ONLY: string[];
export declare function deviceModules(): Promise<string[]>;
export declare function deviceGraph(): Promise<{ modules: string[]; boardOnly: string[] }>;
export declare function withDeviceModules(manifest: ModdableManifest, modules: string[], boardOnly?: string[]): ModdableManifest;
export declare function readManifest(): ModdableManifest;
export declare function manifestText(manifest: ModdableManifest): string;
