import { render } from 'preact';
import { ConveyorClient } from '@conveyor/client';
import { Dashboard } from './app';
import { App, LiveFeed } from './live';
import './styles.css';

interface DashboardSettings {
  monitorUrl: string;
  bullBoardPath: string;
}

const settings = (await (await fetch('/ui/settings.json')).json()) as DashboardSettings;
const client = new ConveyorClient({ apiUrl: location.origin, monitorUrl: settings.monitorUrl });

render(
  <App.Provider value={{ client, live: new LiveFeed(client), bullBoardPath: settings.bullBoardPath }}>
    <Dashboard />
  </App.Provider>,
  document.getElementById('app')!,
);
