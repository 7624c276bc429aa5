// Transitional, for importers outside src/azure not yet moved: the one result type is src/result.ts
// (Result<T, AzureError> here) and fail() lives in azure-error.ts. This file goes once nothing imports it.

import type { AzureError } from './azure-error';
import type { Result as OneResult } from '../result';

export type Result<T> = OneResult<T, AzureError>;
export { ok } from '../result';
export { fail } from './azure-error';
