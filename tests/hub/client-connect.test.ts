import {
  CONNACK_OK,
  DEVICE,
  DEVICE_FILTERS,
  HOST,
  KEY,
  WALL_START_MS,
  acceptConnection,
  connectHex,
  publishHex,
  sasToken,
  settle,
  setupHub,
  subackHex,
  subscribeHex,
  track,
  twinDoc,
} from './hub-fixture';

const EXPIRY = WALL_START_MS / 1000 + 3600;

describe('CONNECT for a device with a SAS key', () => {
  it('opens TLS to the hub on 8883 and sends exactly the expected CONNECT', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    expect(fx.transport.connections).toHaveLength(1);
    expect(fx.link.options).toMatchObject({ host: HOST, port: 8883, serverName: HOST, connectTimeoutMs: 30000 });
    fx.link.open();
    await settle();
    expect(fx.link.takeHex()).toEqual([connectHex({ password: sasToken(`${HOST}/devices/${DEVICE}`, KEY, EXPIRY) })]);
    await fx.client.close();
  });

  it('puts the model id and user agent in the username, URL-encoded', async () => {
    const fx = setupHub({ modelId: 'dtmi:com:example:Thermostat;1', userAgent: 'azure-iot-xs/0.1' });
    track(fx.client.connect());
    fx.link.open();
    await settle();
    const username = `${HOST}/${DEVICE}/?api-version=2021-04-12&DeviceClientType=azure-iot-xs%2F0.1&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1`;
    expect(fx.link.takeHex()).toEqual([connectHex({ username, password: sasToken(`${HOST}/devices/${DEVICE}`, KEY, EXPIRY) })]);
    await fx.client.close();
  });

  it('connects as a module from a connection string, through a gateway, signing for the hub', async () => {
    const fx = setupHub({
      credentials: {
        kind: 'connection-string',
        connectionString: `HostName=${HOST};DeviceId=${DEVICE};ModuleId=mod1;SharedAccessKey=${KEY};GatewayHostName=edge.local`,
      },
    });
    track(fx.client.connect());
    expect(fx.link.options).toMatchObject({ host: 'edge.local', port: 8883, serverName: 'edge.local' });
    const written = await acceptConnection(fx);
    expect(fx.link.writtenHex()[0]).toBe(
      connectHex({
        clientId: `${DEVICE}/mod1`,
        username: `${HOST}/${DEVICE}/mod1/?api-version=2021-04-12`,
        password: sasToken(`${HOST}/devices/${DEVICE}/modules/mod1`, KEY, EXPIRY),
      }),
    );
    // modules get no C2D: three filters only
    expect(written[0]).toBe(subscribeHex(1, DEVICE_FILTERS.slice(1)));
    await fx.client.close();
  });

  it('sends no password for X.509 and hands the certificate to TLS', async () => {
    const chain = [new Uint8Array([1, 2, 3])];
    const privateKey = new Uint8Array([4, 5, 6]);
    const fx = setupHub({ credentials: { kind: 'hub', hostName: HOST, deviceId: DEVICE, credential: { kind: 'x509', chain, privateKey } } });
    track(fx.client.connect());
    expect(fx.link.options.clientCertificates).toEqual(chain);
    expect(fx.link.options.clientKey).toEqual(privateKey);
    fx.link.open();
    await settle();
    expect(fx.link.takeHex()).toEqual([connectHex()]);
    await fx.client.close();
  });

  it('connects where the endpoint override says, keeping the hub names', async () => {
    const fx = setupHub({ endpoint: { host: '127.0.0.1', port: 18883, serverName: 'localhost' } });
    track(fx.client.connect());
    expect(fx.link.options).toMatchObject({ host: '127.0.0.1', port: 18883, serverName: 'localhost' });
    await fx.client.close();
  });
});

describe('SUBSCRIBE after CONNACK, the twin GET after its SUBACK', () => {
  it('writes ONE SUBSCRIBE with all four filters and nothing else until the SUBACK', async () => {
    const fx = setupHub();
    const connected = track(fx.client.connect());
    const afterConnack = await acceptConnection(fx);
    expect(afterConnack).toEqual([subscribeHex(1)]);
    expect(connected.status).toBe('resolved');
    expect(fx.events).toEqual(['connected']);
    await fx.clock.advanceSettled(59_999);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.client.close();
  });

  it('writes the twin GET as soon as the SUBACK arrives', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    await acceptConnection(fx);
    fx.link.push(subackHex(1));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=1', '')]);
    expect(fx.link.writtenHex()).toEqual([
      connectHex({ password: sasToken(`${HOST}/devices/${DEVICE}`, KEY, EXPIRY) }),
      subscribeHex(1),
      publishHex('$iothub/twin/GET/?$rid=1', ''),
    ]);
    await fx.client.close();
  });

  it('applies the GET answer as the full desired state', async () => {
    const fx = setupHub();
    const seen: string[] = [];
    fx.client.onDesired((patch, version, info) => {
      seen.push(`${JSON.stringify(patch)}@${version}:${info.full}`);
    });
    track(fx.client.connect());
    await acceptConnection(fx);
    fx.link.push(subackHex(1));
    await settle();
    fx.link.push(publishHex('$iothub/twin/res/200/?$rid=1', twinDoc({ fan: 2 }, 4)));
    await settle();
    expect(seen).toEqual(['{"fan":2,"$version":4}@4:true']);
    await fx.client.close();
  });

  it('reports a refused filter (SUBACK 0x80) as a typed error', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    await acceptConnection(fx);
    fx.link.push(subackHex(1, [1, 0x80, 0, 0]));
    await settle();
    expect(fx.errors.map((e) => e.code)).toEqual(['subscribe-refused']);
    expect(fx.errors[0]!.message).toContain('$iothub/methods/POST/#');
    await fx.client.close();
  });

  it('writes no twin request when the twin response filter is refused: no answer could arrive', async () => {
    const fx = setupHub({ operationTimeoutMs: 5000 });
    track(fx.client.connect());
    await acceptConnection(fx);
    const twin = track(fx.client.getTwin());
    fx.link.push(subackHex(1, [1, 0, 0x80, 0]));
    await settle();
    expect(fx.errors.map((e) => e.message)).toEqual(['the hub refused the subscription to $iothub/twin/res/#']);
    expect(fx.link.takeHex()).toEqual([]);
    await fx.clock.advanceSettled(5000);
    expect(twin.error?.code).toBe('timeout');
    expect(fx.link.takeHex()).toEqual([]);
    await fx.client.close();
  });

  it('subscribes again on every reconnect, and GETs again on that SUBACK', async () => {
    const fx = setupHub();
    track(fx.client.connect());
    await acceptConnection(fx);
    fx.link.push(subackHex(1));
    await settle();
    fx.link.push(publishHex('$iothub/twin/res/200/?$rid=1', twinDoc({}, 1)));
    await settle();
    fx.link.peerClose();
    await fx.clock.advanceSettled(1000);
    expect(fx.transport.connections).toHaveLength(2);
    const again = await acceptConnection(fx, CONNACK_OK);
    expect(again).toEqual([subscribeHex(2)]);
    fx.link.push(subackHex(2));
    await settle();
    expect(fx.link.takeHex()).toEqual([publishHex('$iothub/twin/GET/?$rid=2', '')]);
    await fx.client.close();
  });
});

describe('configuration errors', () => {
  it('throws a typed invalid-config error naming the field, never echoing the key', () => {
    const secret = 'c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5!!!';
    let caught: unknown;
    try {
      setupHub({ credentials: { kind: 'connection-string', connectionString: `HostName=${HOST};DeviceId=${DEVICE};SharedAccessKey=${secret}` } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ name: 'HubError', code: 'invalid-config', field: 'SharedAccessKey' });
    expect((caught as Error).message).not.toContain(secret);
  });

  it('rejects bad numbers and a missing certificate', () => {
    expect(() => setupHub({ keepAliveSeconds: 5000 })).toThrow(expect.objectContaining({ code: 'invalid-config', field: 'keepAliveSeconds' }));
    expect(() => setupHub({ renewAtFraction: 1.2 })).toThrow(expect.objectContaining({ field: 'renewAtFraction' }));
    expect(() => setupHub({ endpoint: { port: 0 } })).toThrow(expect.objectContaining({ field: 'endpoint.port' }));
    expect(() =>
      setupHub({ credentials: { kind: 'connection-string', connectionString: `HostName=${HOST};DeviceId=${DEVICE};x509=true` } }),
    ).toThrow(expect.objectContaining({ code: 'invalid-config', field: 'certificate' }));
  });
});
