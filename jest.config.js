// Native ESM under jest (aedes 1.x is ESM-only); @swc/jest strips types without type-checking,
// `npm run typecheck` does that part.
export default {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }],
  },
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 30000,
};
