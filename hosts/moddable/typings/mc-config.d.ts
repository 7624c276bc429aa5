// "mc/config": the manifest's "config" object, baked into the build.
declare module 'mc/config' {
  const config: { readonly [name: string]: unknown };
  export default config;
}
