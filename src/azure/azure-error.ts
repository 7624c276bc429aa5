// One error type for every Azure protocol builder and parser. Parsers return it (never throw it) so hostile
// input from the network cannot unwind a state machine. `field` names what was wrong; messages describe the
// problem without quoting the offending value, because values are often keys, signatures or tokens.

import { err } from '../result';

export type AzureErrorCode =
  | 'clock-not-set' // signing needs real time and the wall clock is not set yet
  | 'invalid-argument' // a value handed to a builder has the wrong form or range
  | 'missing-field'
  | 'duplicate-field'
  | 'empty-field'
  | 'unknown-field'
  | 'conflicting-fields'
  | 'malformed' // text that does not follow its grammar (connection string, SAS token)
  | 'invalid-base64'
  | 'invalid-percent-encoding'
  | 'invalid-utf8'
  | 'invalid-json'
  | 'invalid-payload' // valid JSON of the wrong shape
  | 'topic-mismatch' // not this parser's topic (another feature's, or C2D for another device): a router tries the next
  | 'invalid-topic' // the topic belongs to this feature but is malformed
  | 'invalid-name'
  | 'invalid-value'
  | 'too-large'
  | 'too-deep'
  | 'crypto-failed';

export class AzureError extends Error {
  override readonly name: string = 'AzureError';
  readonly code: AzureErrorCode;
  readonly field: string | undefined;

  constructor(code: AzureErrorCode, field: string | undefined, detail: string) {
    super(field === undefined ? detail : `${field}: ${detail}`);
    this.code = code;
    this.field = field;
  }
}

/** The failed Result of an Azure builder or parser: `return fail(code, field, detail)`. */
export function fail(code: AzureErrorCode, field: string | undefined, detail: string): { ok: false; error: AzureError } {
  return err(new AzureError(code, field, detail));
}
