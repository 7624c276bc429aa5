// XS side of the bridge: typed, synchronous requests to the Node side over issueCommand.
import { decodeBridgeMessage, encodeBridgeMessage, toArrayBuffer, type XsReplies, type XsRequest } from './bridge-protocol';
import type { IssueCommand } from './xsnap-globals';

export class BridgeClient {
  constructor(private readonly issue: IssueCommand) {}

  request<R extends XsRequest>(request: R): XsReplies[R['op']] {
    const reply = this.issue(toArrayBuffer(encodeBridgeMessage(request)));
    const decoded = decodeBridgeMessage<XsReplies[R['op']] & { error?: string }>(new Uint8Array(reply));
    // The Node side answers a failed request with { error } so XS is never left blocked without a reply.
    if (typeof decoded === 'object' && decoded !== null && typeof decoded.error === 'string') {
      throw new Error(`host refused ${request.op}: ${decoded.error}`);
    }
    return decoded;
  }
}
