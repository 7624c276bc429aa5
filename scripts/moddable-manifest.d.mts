// Types for scripts/moddable-manifest.mjs, for the tests that import it.
export declare const DEVICE_ENTRY: string;
export declare const MODEM_ENTRY: string;
export interface ModdableManifest {
  modules: Record<string, string | string[]>;
  preload: string[];
  platforms?: {
    esp32?: { preload?: string[] } & Record<string, unknown>;
    nrf52?: { modules?: Record<string, string>; preload?: string[] } & Record<string, unknown>;
  } & Record<string, unknown>;
  [field: string]: unknown;
}
export declare const LOAD_TIME_ONLY: string[];
export declare function deviceModules(): Promise<string[]>;
export declare function deviceGraph(entry?: string): Promise<{ modules: string[]; boardOnly: string[] }>;
export declare function modemOnlyModules(): Promise<string[]>;
export declare function withDeviceModules(manifest: ModdableManifest, modules: string[], boardOnly?: string[], modemOnly?: string[]): ModdableManifest;
export declare const OPT_IN_MANIFESTS: Array<{ manifest: string; entry: string }>;
export declare function optInGraph(entry: string): Promise<{ modules: string[]; boardOnly: string[] }>;
export declare function withOptInModules(manifest: ModdableManifest, manifestPath: string, graph: { modules: string[]; boardOnly: string[] }): ModdableManifest;
export declare function readManifest(path?: string): ModdableManifest;
export declare function manifestText(manifest: ModdableManifest): string;
