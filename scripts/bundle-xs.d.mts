// Types for scripts/bundle-xs.mjs, so TypeScript tests can import it.
export declare function bundleForXs(entry: string, options?: { minify?: boolean }): Promise<string>;
