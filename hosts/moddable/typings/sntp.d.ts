// "sntp" (documentation/network/network.md, class SNTP): asks one server for the time, with fail-over.
declare module 'sntp' {
  /**
   * message 1: `value` is Unix seconds. 2: retrying. -1: failed, `value` says why; return another host name to
   * try it, or nothing to give up (the client then closes itself).
   */
  type SntpCallback = (message: -1 | 1 | 2, value?: number | string) => string | void;
  export default class SNTP {
    constructor(dictionary: { host: string }, callback: SntpCallback);
    static readonly time: 1;
    static readonly retry: 2;
    static readonly error: -1;
  }
}
