import { parseDesiredPatch, parseTwinDocument } from '../../src/azure/twin-json';
import { errorOf, unwrap } from './support';

describe('parseTwinDocument', () => {
  test('desired and reported with their versions', () => {
    const body = '{"desired":{"fan":{"speed":3},"$version":7},"reported":{"fan":{"speed":2},"$version":12}}';
    expect(unwrap(parseTwinDocument(new TextEncoder().encode(body)))).toEqual({
      desired: { fan: { speed: 3 }, $version: 7 },
      reported: { fan: { speed: 2 }, $version: 12 },
      desiredVersion: 7,
      reportedVersion: 12,
    });
  });

  test('missing sections or versions are named', () => {
    expect(errorOf(parseTwinDocument('{"reported":{"$version":1}}')).field).toBe('twin.desired');
    expect(errorOf(parseTwinDocument('{"desired":{"$version":1},"reported":[]}')).field).toBe('twin.reported');
    expect(errorOf(parseTwinDocument('{"desired":{},"reported":{"$version":1}}')).field).toBe('twin.desired.$version');
    expect(errorOf(parseTwinDocument('{"desired":{"$version":1},"reported":{"$version":-2}}')).field).toBe('twin.reported.$version');
    expect(errorOf(parseTwinDocument('<html>')).code).toBe('invalid-json');
  });
});

describe('parseDesiredPatch', () => {
  test('the body version wins', () => {
    expect(unwrap(parseDesiredPatch('{"fan":{"speed":4},"$version":8}', 8))).toEqual({ patch: { fan: { speed: 4 }, $version: 8 }, version: 8 });
  });

  test('the topic version covers a body without one', () => {
    expect(unwrap(parseDesiredPatch('{"fan":null}', 9))).toEqual({ patch: { fan: null }, version: 9 });
  });

  test('no version anywhere, a bad version, or a non-object body', () => {
    expect(errorOf(parseDesiredPatch('{"fan":null}')).message).toBe('desired patch.$version: is in neither the body nor the topic');
    expect(errorOf(parseDesiredPatch('{"$version":"8"}')).field).toBe('desired patch.$version');
    expect(errorOf(parseDesiredPatch('3', 1)).code).toBe('invalid-payload');
  });
});
