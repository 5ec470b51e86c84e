// The test page: a StrictMode React app on @herald/react, built by Vite in development mode
// (so StrictMode really mounts, unmounts and remounts every effect). It shows the connection
// state, the `news` topic's messages and the personal channel's, one <li> per message.
import { HeraldProvider, useConnectionState, useTopic, useUser } from '../../src/index.js';
import { createElement as h, StrictMode, useEffect } from 'react';
import { createRoot } from 'react-dom/client';

declare global {
  interface Window {
    /** How many times Feed's mount effect ran (2 under StrictMode in development). */
    feedMounts: number;
    unmountApp: () => void;
  }
}

const gateway = new URLSearchParams(location.search).get('gw') ?? '';
const getToken = async (): Promise<string> => ((await (await fetch('/token')).json()) as { token: string }).token;
window.feedMounts = 0;

function Feed(): ReturnType<typeof h> {
  const state = useConnectionState();
  const news = useTopic<{ n: number }>('news', { limit: 1000 });
  const user = useUser<{ n: number }>({ limit: 1000 });
  const hist = useTopic<{ n: number }>('hist', { rewind: 2 });
  useEffect(() => {
    window.feedMounts++;
  }, []);
  return h(
    'main',
    null,
    h('p', { id: 'state' }, state),
    h('p', { id: 'result' }, news.result ? JSON.stringify(news.result) : ''),
    h('ul', { id: 'news' }, news.messages.map((m) => h('li', { key: m.seq, 'data-seq': m.seq }, JSON.stringify(m.data)))),
    h('ul', { id: 'user' }, user.messages.map((m) => h('li', { key: m.seq, 'data-seq': m.seq }, JSON.stringify(m.data)))),
    h('ul', { id: 'hist' }, hist.messages.map((m) => h('li', { key: m.seq, 'data-seq': m.seq }, JSON.stringify(m.data)))),
  );
}

const root = createRoot(document.getElementById('root') as HTMLElement);
root.render(h(StrictMode, null, h(HeraldProvider, { options: { url: gateway, getToken } }, h(Feed))));
window.unmountApp = () => root.unmount();
