// Entry point of the explorer page's bundle (emulator/explorer/build.ts).
import { render } from 'preact';
import uplotCss from 'uplot/dist/uPlot.min.css';
import { Api, takeToken } from './api';
import { App } from './app';
import { Store } from './store';
import pageCss from './style.css';

const style = document.createElement('style');
style.textContent = `${uplotCss}\n${pageCss}`;
document.head.appendChild(style);

const root = document.getElementById('app')!;
const token = takeToken();
if (token === undefined) {
  root.innerHTML =
    '<p class="error">No control token. Open the address the emulator printed at start (it ends in <code>#token=...</code>); ' +
    'the token is also in <code>control.json</code> in the state folder.</p>';
} else {
  const api = new Api(token);
  const store = new Store();
  api.stream(
    (name, data) => store.apply(name, data),
    (state, why) => {
      store.stream = state;
      store.streamProblem = why;
      store.changed();
    },
  );
  root.textContent = '';
  render(<App store={store} api={api} />, root);
}
