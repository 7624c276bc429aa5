// "preference" (documentation/files/files.md, class Preference): small persistent values by domain and key.
// Name and value limits are per platform (ESP32 NVS: 15-character names, about 4000-byte values;
// ESP8266 / nRF52: 31-character names, 63-byte values). ArrayBuffer values must be real ArrayBuffers, not views.
declare module 'preference' {
  type PreferenceValue = string | boolean | number | ArrayBuffer;
  const Preference: {
    set(domain: string, key: string, value: PreferenceValue): void;
    get(domain: string, key: string): PreferenceValue | undefined;
    delete(domain: string, key: string): void;
    keys(domain: string): string[];
  };
  export default Preference;
}
