// Native ESM under jest (aedes 1.x is ESM-only); @swc/jest strips types without type-checking,
// `npm run typecheck` does that part.
export default {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }],
  },
  extensionsToTreatAsEsm: ['.ts'],
  // The Moddable SDK modules hosts/moddable/transport.ts needs, faked so it runs on Node (tests/moddable/fakes).
  moduleNameMapper: {
    '^securesocket$': '<rootDir>/tests/moddable/fakes/securesocket.ts',
    '^timer$': '<rootDir>/tests/moddable/fakes/timer.ts',
    '^x509$': '<rootDir>/tests/moddable/fakes/x509.ts',
    '^ota$': '<rootDir>/tests/moddable/fakes/ota.ts',
    '^file$': '<rootDir>/tests/moddable/fakes/file.ts',
  },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  // Every state machine throws on an illegal move under test (src/state-machine.ts).
  setupFiles: ['<rootDir>/tests/setup/strict-moves.ts'],
  testTimeout: 30000,
};
