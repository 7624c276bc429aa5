// A fixed run through the Azure protocol functions, reported as text lines, so the same calls can be made on
// Node and inside the real XS engine and the two transcripts compared. HMAC here is built on the project's
// host-neutral SHA-256 because XS has no crypto of its own.

import { AzureError } from '../../src/azure/azure-error';
import { parseC2dTopic } from '../../src/azure/c2d-topic';
import { parseConnectionString } from '../../src/azure/connection-string';
import { buildDpsRegisterBody, parseDpsResponse } from '../../src/azure/dps-payloads';
import { dpsPollTopic, parseDpsResponseTopic } from '../../src/azure/dps-topics';
import { deriveDeviceKey } from '../../src/azure/group-key';
import { parseJson } from '../../src/azure/json';
import { checkTelemetrySize, checkTwinPatch } from '../../src/azure/limits';
import { methodResponseTopic, parseMethodRequestTopic, splitCommandName } from '../../src/azure/method-topics';
import { dpsMqttIdentity, hubMqttIdentity } from '../../src/azure/mqtt-identity';
import { buildWritablePropertyAck } from '../../src/azure/pnp';
import { createRequestIdGenerator } from '../../src/azure/request-id';
import type { Result } from '../../src/result';
import { buildDpsSasToken, buildHubSasToken, expiryFromClock, hmacBase64 } from '../../src/azure/sas-token';
import { parseSasToken, sasSignatureMatches } from '../../src/azure/sas-verify';
import { telemetryTopic } from '../../src/azure/telemetry-topic';
import { parseDesiredPatch, parseTwinDocument } from '../../src/azure/twin-json';
import { parseTwinDesiredTopic, parseTwinResponseTopic, twinGetTopic } from '../../src/azure/twin-topics';
import { base64Decode, base64Encode } from '../../src/encoding/base64';
import { percentDecode, percentEncode } from '../../src/encoding/percent';
import { utf8Encode } from '../../src/encoding/utf8';
import { sha256 } from '../../src/crypto/sha256';

export function testHmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sha256(key) : key);
  const inner = new Uint8Array(64 + data.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i]! ^ 0x36;
    outer[i] = block[i]! ^ 0x5c;
  }
  inner.set(data, 64);
  outer.set(sha256(inner), 64);
  return sha256(outer);
}

function show<T>(result: Result<T, AzureError>): string {
  if (result.ok) return typeof result.value === 'string' ? result.value : JSON.stringify(result.value);
  const e = result.error;
  const shaped = e instanceof AzureError && e instanceof Error && e.name === 'AzureError';
  return `${shaped ? 'error' : 'BADLY-SHAPED'} ${e.code} [${e.message}]`;
}

export function runProtocolBattery(): string[] {
  const hmac = testHmacSha256;
  const KEY = 'cGFzc3dvcmQ=';
  const HOST = 'contoso.azure-devices.net';
  const lines: string[] = [];
  const add = (name: string, value: string): void => {
    lines.push(`${name}: ${value}`);
  };

  const b = base64Decode('Zm9vYmFy');
  add('base64', b.ok ? base64Encode(b.value) : 'fail');
  const badB = base64Decode('Zh==');
  add('base64 strict', badB.ok ? 'accepted' : badB.error.message);
  add('percent encode', percentEncode("caf\u00e9 /+=!'()*~ \u{1F600}"));
  const pd = percentDecode('%2Fdevices/d1%2fx+%C3%A9');
  add('percent decode', pd.ok ? pd.value : pd.error.code);
  const pdBad = percentDecode('%ED%A0%80');
  add('percent decode bad', pdBad.ok ? 'accepted' : pdBad.error.code);

  add('hmac vector', show(hmacBase64(KEY, 'string-to-sign', hmac)));
  const hubToken = buildHubSasToken({ hostName: HOST, deviceId: 'device-1', key: KEY, expiryUnixSeconds: 1700000000 }, hmac);
  add('hub token', show(hubToken));
  const dpsToken = buildDpsSasToken({ idScope: '0ne00000A0A', registrationId: 'reg-1', key: KEY, expiryUnixSeconds: 1700000000 }, hmac);
  add('dps token', show(dpsToken));
  if (hubToken.ok) {
    const parsed = parseSasToken(hubToken.value);
    add('token parse', show(parsed));
    if (parsed.ok) add('token verify', show(sasSignatureMatches(parsed.value, KEY, hmac)));
  }
  add(
    'group key',
    show(deriveDeviceKey('8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==', 'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6', hmac)),
  );
  add('clock unset', show(expiryFromClock(undefined, 3600)));
  add('clock', show(expiryFromClock(1700000000999, 3600)));

  add('connection string', show(parseConnectionString(`HostName=${HOST};DeviceId=d1;ModuleId=m1;SharedAccessKey=${KEY}`)));
  add('connection string bad', show(parseConnectionString('hostname=h;DeviceId=d1;x509=true')));
  add('hub identity', show(hubMqttIdentity({ hostName: HOST, deviceId: 'd1', modelId: 'dtmi:com:example:Thermostat;1' })));
  add('dps identity', show(dpsMqttIdentity({ idScope: '0ne00000A0A', registrationId: 'reg-1' })));

  add(
    'telemetry',
    show(
      telemetryTopic({
        deviceId: 'd1',
        moduleId: 'm1',
        messageId: 'm-1',
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        creationTime: 1700000000123,
        component: 'thermostat1',
        properties: [{ name: 'alert', value: 'high temp' }, { name: 'flag', value: null }],
      }),
    ),
  );
  add('telemetry bad', show(telemetryTopic({ deviceId: 'd1', properties: { '$.mid': 'x' } })));
  add('c2d', show(parseC2dTopic('devices/d1/messages/devicebound/%24.mid=1&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound&k=/raw&n', 'd1')));
  add('c2d other', show(parseC2dTopic('devices/d2/messages/devicebound/', 'd1')));

  const rid = createRequestIdGenerator();
  add('twin get', twinGetTopic(rid()));
  add('twin res', show(parseTwinResponseTopic('$iothub/twin/res/204/?$version=12&$rid=8')));
  add('twin desired', show(parseTwinDesiredTopic('$iothub/twin/PATCH/properties/desired/?$version=42')));
  add('twin doc', show(parseTwinDocument(utf8Encode('{"desired":{"a":1,"$version":7},"reported":{"$version":12}}'))));
  add('desired patch', show(parseDesiredPatch('{"a":null}', 9)));
  add('method', show(parseMethodRequestTopic('$iothub/methods/POST/thermostat1%2AgetMaxMinReport/?$rid=a1')));
  add('command split', JSON.stringify(splitCommandName('thermostat1*getMaxMinReport')));
  add('method reply', show(methodResponseTopic(200, 'a1')));

  add('dps poll', dpsPollTopic(rid(), '4.d0a6.42d7'));
  add('dps res', show(parseDpsResponseTopic('$dps/registrations/res/202/?retry-after=3&$rid=1')));
  add('dps body', show(buildDpsRegisterBody('reg-1', { a: [1, 'x'] })));
  add(
    'dps assigned',
    show(parseDpsResponse(200, utf8Encode('{"operationId":"o","status":"assigned","registrationState":{"assignedHub":"h.net","deviceId":"d9"}}'))),
  );
  add('dps error', show(parseDpsResponse(401, '{"errorCode":401002,"trackingId":"t","message":"no"}')));

  add('twin patch', show(checkTwinPatch({ firmware: { fwVersion: '1.2.0', sizes: [1, 2] } })));
  let deep: Record<string, unknown> = { x: 1 };
  for (let i = 0; i < 11; i++) deep = { [`l${i}`]: deep };
  add('twin patch deep', show(checkTwinPatch(deep)));
  add('twin patch key', show(checkTwinPatch({ 'a.b': 1 })));
  add('telemetry size', show(checkTelemetrySize(262144, 'devices/d1/messages/events/')));
  add('pnp ack', show(buildWritablePropertyAck({ name: 't', value: 21.5, ackCode: 200, ackVersion: 7, description: 'ok', component: 'c1' })));
  add('json bad', show(parseJson(Uint8Array.from([0x7b]))));
  add('json bom', show(parseJson(Uint8Array.from([0xef, 0xbb, 0xbf, 0x5b, 0x5d]))));
  return lines;
}
