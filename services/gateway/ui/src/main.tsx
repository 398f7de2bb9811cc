import { render } from 'preact';
import { ConveyorClient } from '@conveyor/client';
import { Dashboard } from './app';
import { App, LiveFeed } from './live';
import { LoginPage } from './login-page';
import { readSession, sessionTokens } from './session';
import './styles.css';

interface DashboardSettings {
  monitorUrl: string;
  bullBoardPath: string;
}

const root = document.getElementById('app')!;
const [settings, session] = await Promise.all([fetch('/ui/settings.json').then((r) => r.json() as Promise<DashboardSettings>), readSession()]);

if (!session) {
  render(<LoginPage />, root);
} else {
  // REST rides the session cookie; the socket takes a browser token from the session, renewed as it nears expiry.
  const client = new ConveyorClient({ apiUrl: location.origin, monitorUrl: settings.monitorUrl, session: true, getToken: sessionTokens(session) });
  render(
    <App.Provider value={{ client, live: new LiveFeed(client), bullBoardPath: settings.bullBoardPath, session }}>
      <Dashboard />
    </App.Provider>,
    root,
  );
}
