// MQTT 3.1.1 packets as plain data: the contract between the codec (bytes <-> packets) and the session.
// Payloads and passwords are bytes; topics, client ids and usernames are strings (UTF-8 on the wire).

export type QoS = 0 | 1;

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  retain: boolean;
}

export interface ConnectPacket {
  type: 'connect';
  clientId: string;
  cleanSession: boolean;
  /** Seconds, 0..65535; 0 disables keepalive. */
  keepAlive: number;
  username?: string;
  password?: Uint8Array;
  will?: Will;
}

export interface ConnackPacket {
  type: 'connack';
  sessionPresent: boolean;
  /** 0 accepted, 1 bad protocol, 2 identifier rejected, 3 server unavailable, 4 bad credentials, 5 not authorized. */
  returnCode: number;
}

export interface PublishPacket {
  type: 'publish';
  topic: string;
  payload: Uint8Array;
  qos: QoS;
  dup: boolean;
  retain: boolean;
  /** Present exactly when qos is 1. */
  packetId?: number;
}

export interface PubackPacket {
  type: 'puback';
  packetId: number;
}

export interface Subscription {
  topic: string;
  qos: QoS;
}

export interface SubscribePacket {
  type: 'subscribe';
  packetId: number;
  subscriptions: Subscription[];
}

/** Granted QoS per filter, in order; 0x80 means the broker refused that filter. */
export type SubackCode = 0 | 1 | 2 | 0x80;

export interface SubackPacket {
  type: 'suback';
  packetId: number;
  granted: SubackCode[];
}

export interface UnsubscribePacket {
  type: 'unsubscribe';
  packetId: number;
  topics: string[];
}

export interface UnsubackPacket {
  type: 'unsuback';
  packetId: number;
}

export interface PingreqPacket {
  type: 'pingreq';
}

export interface PingrespPacket {
  type: 'pingresp';
}

export interface DisconnectPacket {
  type: 'disconnect';
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | PubackPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket;

export type PacketType = Packet['type'];

/** What a client sends: the device's encoder writes only these (broker-codec.ts writes the rest). */
export type ClientPacket = ConnectPacket | PublishPacket | PubackPacket | SubscribePacket | UnsubscribePacket | PingreqPacket | DisconnectPacket;
