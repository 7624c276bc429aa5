// XS side of the session parity test: runs the scripted session scenario, and the session team's
// plain-data script runner, inside XS and hands back what they produced.
import { installXsnapHost } from '../../../hosts/xsnap/xsnap-host';
import { runSessionScript, type ScriptStep } from '../../../hosts/virtual';
import { runSessionScenario } from '../scenarios/session-script';

const host = installXsnapHost();
host.onApp('session-scenario', async () => {
  const { written, events } = await runSessionScenario();
  return { written, events };
});
host.onApp('session-script', async (steps) => {
  const { transcript } = await runSessionScript(steps as unknown as ScriptStep[]);
  return transcript;
});
