// Where the device dials DPS. Azure has one global host on 8883; the local emulator listens on another port, so
// `host:port` is accepted too. The port only picks the socket: DPS names no host in the username or the SAS
// resource, so it never reaches anything that is signed.

import { checkHostName } from '../azure/identifiers';
import { err, ok, type Result } from '../result';
import { DpsError } from './dps-errors';

export const DEFAULT_DPS_HOST = 'global.azure-devices-provisioning.net';
export const DEFAULT_DPS_PORT = 8883;

export interface DpsEndpoint {
  host: string;
  port: number;
}

/** `host` or `host:port`; a DpsError 'invalid-config' names what is wrong. IPv6 literals are not supported. */
export function parseDpsEndpoint(text: string | undefined): Result<DpsEndpoint, DpsError> {
  if (text === undefined) return ok({ host: DEFAULT_DPS_HOST, port: DEFAULT_DPS_PORT });
  const colon = text.lastIndexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  let port = DEFAULT_DPS_PORT;
  if (colon >= 0) {
    const digits = text.slice(colon + 1);
    if (!/^[1-9][0-9]{0,4}$/.test(digits) || Number(digits) > 65535) {
      return err(new DpsError('invalid-config', 'endpoint: the port must be a number 1..65535', { retryable: false }));
    }
    port = Number(digits);
  }
  const checked = checkHostName(host, 'endpoint');
  if (!checked.ok) return err(new DpsError('invalid-config', checked.error.message, { retryable: false }));
  return ok({ host, port });
}
