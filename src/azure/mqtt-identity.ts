// MQTT CONNECT identity (client id and username) for IoT Hub and DPS.
// The hub username has `/?api-version=` while DPS has `/api-version=` with no `?`: both services reject the
// other spelling. Optional parameters are URL-encoded, so user agents and DTDL model ids (`dtmi:...;1`) are safe.

import { percentEncode } from '../encoding/percent';
import { checkDeviceId, checkHostName, checkIdScope, checkModuleId, checkRegistrationId } from './identifiers';
import { ok, type Result } from '../result';
import { fail, type AzureError } from './azure-error';

export const HUB_API_VERSION = '2021-04-12';
export const DPS_API_VERSION = '2019-03-31';

export interface MqttIdentity {
  clientId: string;
  username: string;
}

export interface HubIdentityInput {
  /** The hub's host name, even when connecting through a gateway. */
  hostName: string;
  deviceId: string;
  moduleId?: string;
  /** Sent as DeviceClientType, e.g. `azure-iot-xs/0.1.0`. */
  userAgent?: string;
  /** IoT Plug and Play model id, e.g. `dtmi:com:example:Thermostat;1`. */
  modelId?: string;
}

export interface DpsIdentityInput {
  idScope: string;
  registrationId: string;
  /** Sent as ClientVersion. */
  clientVersion?: string;
}

function optionalParam(name: string, value: string | undefined, field: string): Result<string, AzureError> {
  if (value === undefined) return ok('');
  if (value.length === 0) return fail('empty-field', field, 'must not be empty when given');
  return ok(`&${name}=${percentEncode(value)}`);
}

export function hubMqttIdentity(input: HubIdentityInput): Result<MqttIdentity, AzureError> {
  const host = checkHostName(input.hostName);
  if (!host.ok) return host;
  const device = checkDeviceId(input.deviceId);
  if (!device.ok) return device;
  let path = input.deviceId;
  if (input.moduleId !== undefined) {
    const mod = checkModuleId(input.moduleId);
    if (!mod.ok) return mod;
    path += `/${input.moduleId}`;
  }
  const agent = optionalParam('DeviceClientType', input.userAgent, 'userAgent');
  if (!agent.ok) return agent;
  const model = optionalParam('model-id', input.modelId, 'modelId');
  if (!model.ok) return model;
  return ok({
    clientId: path,
    username: `${input.hostName}/${path}/?api-version=${HUB_API_VERSION}${agent.value}${model.value}`,
  });
}

export function dpsMqttIdentity(input: DpsIdentityInput): Result<MqttIdentity, AzureError> {
  const scope = checkIdScope(input.idScope);
  if (!scope.ok) return scope;
  const reg = checkRegistrationId(input.registrationId);
  if (!reg.ok) return reg;
  const version = optionalParam('ClientVersion', input.clientVersion, 'clientVersion');
  if (!version.ok) return version;
  return ok({
    clientId: input.registrationId,
    username: `${input.idScope}/registrations/${input.registrationId}/api-version=${DPS_API_VERSION}${version.value}`,
  });
}
