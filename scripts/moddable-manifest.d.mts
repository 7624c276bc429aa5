// Types for scripts/moddable-manifest.mjs, for the tests that import it.
export declare const DEVICE_ENTRY: string;
export interface ModdableManifest {
  modules: Record<string, string | string[]>;
  preload: string[];
  [field: string]: unknown;
}
export declare function deviceModules(): Promise<string[]>;
export declare function withDeviceModules(manifest: ModdableManifest, modules: string[]): ModdableManifest;
export declare function readManifest(): ModdableManifest;
export declare function manifestText(manifest: ModdableManifest): string;
