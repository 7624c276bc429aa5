// Valid Azure texts to mutate, with fixed known keys so a fuzz run can check that no error echoes them.

/** 32 random-looking bytes as base64: the shape of a real device key. */
export const FUZZ_DEVICE_KEY = 'q0v7Jx2mZb9Rk4TtYw8cN1pLs6Hd3GfVa5EuXoQiBzM=';

export const CONNECTION_STRING_SEEDS = [
  `HostName=h1.azure-devices.net;DeviceId=dev-1;SharedAccessKey=${FUZZ_DEVICE_KEY}`,
  `HostName=h1.azure-devices.net;DeviceId=dev-1;ModuleId=mod.a;SharedAccessKey=${FUZZ_DEVICE_KEY}`,
  `DeviceId=dev-1;HostName=h1.azure-devices.net;SharedAccessKeyName=owner;SharedAccessKey=${FUZZ_DEVICE_KEY};GatewayHostName=edge.local`,
  'HostName=h1.azure-devices.net;DeviceId=dev-1;x509=true',
  ` HostName=h1.azure-devices.net;DeviceId=d%2A;SharedAccessKey=${FUZZ_DEVICE_KEY};\n`,
];

export const PROPERTY_BAG_SEEDS = [
  '%24.mid=m1&%24.cid=c1&%24.ct=application%2Fjson&%24.ce=utf-8',
  'color=blue&size=&flag&%24.to=/devices/d1/messages/deviceBound',
  'k%C3%A9y=v%F0%9F%98%80&a=b&a=c',
  '$.mid=raw&iothub-ack=full&x=1%3D2',
  '',
];

export const TOPIC_SEEDS = [
  '$iothub/twin/res/200/?$rid=1',
  '$iothub/twin/res/204/?$rid=req%2017&$version=42',
  '$iothub/twin/res/429/?$rid=3',
  '$iothub/twin/PATCH/properties/desired/?$version=7',
  '$iothub/methods/POST/reboot/?$rid=9',
  '$iothub/methods/POST/thermostat*getMaxMinReport/?$rid=abc',
  '$iothub/methods/POST/m%C3%A9thode/?$rid=%2F1',
  'devices/d1/messages/devicebound/%24.mid=m1&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound&color=blue',
  'devices/d1/messages/devicebound/',
  'devices/d1/messages/devicebound',
  '$dps/registrations/res/202/?$rid=1&retry-after=3',
  '$dps/registrations/res/200/?retry-after=0&$rid=2',
  'devices/d1/messages/events/',
];

export const JSON_SEEDS = [
  '{"desired":{"$version":3,"interval":5,"nested":{"a":[1,2,{"b":null}]}},"reported":{"$version":1,"fw":"1.0"}}',
  '{"interval":10,"$version":7}',
  '{"interval":10}',
  '{"operationId":"4.abc","status":"assigning"}',
  '{"operationId":"4.abc","status":"assigned","registrationState":{"registrationId":"r1","assignedHub":"h.azure-devices.net","deviceId":"d1","status":"assigned","substatus":"initialAssignment","payload":{"x":1}}}',
  '{"operationId":"4.abc","status":"failed","registrationState":{"errorCode":400209,"errorMessage":"bad"}}',
  '{"errorCode":401002,"trackingId":"t-1","message":"Unauthorized"}',
  '\uFEFF{"a":"\\u00e9\\ud83d\\ude00"}',
  '[1,2,3]',
  '',
];

export const SAS_RESOURCE_SEEDS = ['h1.azure-devices.net%2Fdevices%2Fdev-1', '0ne00ABC123%2Fregistrations%2Freg-1', 'h1.azure-devices.net%2Fdevices%2Fd%2Fmodules%2Fm'];
