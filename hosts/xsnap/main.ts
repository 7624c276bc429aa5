// Default entry of `npm run bundle:xs`: the XS host with a `ping` call and nothing else yet. When the
// device app exists it is started here, on top of host.ports.
import { installXsnapHost } from './xsnap-host';

const host = installXsnapHost();
host.onApp('ping', (data) => data ?? null);
