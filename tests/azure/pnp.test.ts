import { buildReportedProperty, buildWritablePropertyAck, componentProperties } from '../../src/azure/pnp';
import { errorOf, unwrap } from './support';

describe('writable property acknowledgement', () => {
  test('root property', () => {
    const ack = unwrap(buildWritablePropertyAck({ name: 'targetTemperature', value: 21.5, ackCode: 200, ackVersion: 7, description: 'applied' }));
    expect(JSON.stringify(ack)).toBe('{"targetTemperature":{"ac":200,"av":7,"ad":"applied","value":21.5}}');
  });

  test('component property carries the __t marker', () => {
    const ack = unwrap(buildWritablePropertyAck({ name: 'targetTemperature', value: 21.5, ackCode: 202, ackVersion: 3, component: 'thermostat1' }));
    expect(JSON.stringify(ack)).toBe('{"thermostat1":{"__t":"c","targetTemperature":{"ac":202,"av":3,"value":21.5}}}');
  });

  test('bad codes, versions and names', () => {
    expect(errorOf(buildWritablePropertyAck({ name: 'p', value: 1, ackCode: 2.5, ackVersion: 1 })).field).toBe('ackCode');
    expect(errorOf(buildWritablePropertyAck({ name: 'p', value: 1, ackCode: 200, ackVersion: -1 })).field).toBe('ackVersion');
    expect(errorOf(buildWritablePropertyAck({ name: 'a.b', value: 1, ackCode: 200, ackVersion: 1 })).code).toBe('invalid-name');
    expect(errorOf(buildWritablePropertyAck({ name: 'p', value: 1, ackCode: 200, ackVersion: 1, component: '$c' })).field).toBe('component');
  });
});

describe('reported properties', () => {
  test('root and component form', () => {
    expect(unwrap(buildReportedProperty('serialNumber', 'SN-1'))).toEqual({ serialNumber: 'SN-1' });
    expect(JSON.stringify(unwrap(buildReportedProperty('maxTempSinceLastReboot', 30, 'thermostat1')))).toBe(
      '{"thermostat1":{"__t":"c","maxTempSinceLastReboot":30}}',
    );
    expect(errorOf(buildReportedProperty('__t', 1, 'c1')).code).toBe('invalid-name');
  });
});

describe('componentProperties', () => {
  test('the component section without the marker', () => {
    const desired = { thermostat1: { __t: 'c', targetTemperature: 22 }, $version: 4 };
    expect(componentProperties(desired, 'thermostat1')).toEqual({ targetTemperature: 22 });
    expect(componentProperties(desired, 'missing')).toBeUndefined();
    expect(componentProperties(desired, '$version')).toBeUndefined();
  });
});
