import { deriveDeviceKey } from '../../src/azure/group-key';
import { errorOf, hmacSha256, unwrap } from './support';

const GROUP_KEY = '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==';

describe('deriveDeviceKey', () => {
  test('public example from the Azure DPS documentation', () => {
    expect(unwrap(deriveDeviceKey(GROUP_KEY, 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6', hmacSha256))).toBe(
      'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=',
    );
  });

  test('a bad group key is named groupKey and not echoed', () => {
    const e = errorOf(deriveDeviceKey('8isrFI1sGsIlvvFS!', 'reg-1', hmacSha256));
    expect(e).toEqual({ code: 'invalid-base64', field: 'groupKey', message: 'groupKey: is not valid base64 (length 17 is not a multiple of 4)' });
  });

  test('a bad registration id is refused before signing', () => {
    expect(errorOf(deriveDeviceKey(GROUP_KEY, 'reg/1', hmacSha256)).field).toBe('registrationId');
  });
});
