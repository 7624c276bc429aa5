// Smallest XS program for the driver smoke test: handleCommand asks the host for a suffix through
// issueCommand and answers with the request reversed plus that suffix.
import { xsnapGlobal, globalIssueCommand } from '../../../hosts/xsnap/xsnap-globals';

let calls = 0;
xsnapGlobal.handleCommand = (request) => {
  calls++;
  const input = new Uint8Array(request);
  const suffix = new Uint8Array(globalIssueCommand()(new Uint8Array([calls]).buffer));
  const out = new Uint8Array(input.length + suffix.length);
  for (let i = 0; i < input.length; i++) out[i] = input[input.length - 1 - i];
  out.set(suffix, input.length);
  return out.buffer;
};
