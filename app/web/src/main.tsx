// Entry: resumes the session from the stored refresh token, then renders the page for the path.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import * as api from './api';
import { interceptLinks, navigate, usePath } from './router';
import { Callback, SignIn } from './pages/SignIn';
import { Dashboard } from './pages/Dashboard';
import { Import } from './pages/Import';
import { Day } from './pages/Day';
import { Settings } from './pages/Settings';
import { Alert, Placeholder, errorText } from './ui';
import './style.css';

function Shell() {
  const path = usePath();
  const [ready, setReady] = useState(false);
  const [startError, setStartError] = useState<unknown>(null);
  const [, setTick] = useState(0);

  useEffect(() => api.onSessionChange(() => setTick((t) => t + 1)), []);
  useEffect(() => {
    if (path === '/auth/callback') {
      setReady(true);
      return;
    }
    api
      .restore()
      .catch((e) => setStartError(e))
      .finally(() => setReady(true));
    // Only on first load: later navigations reuse the session in memory.
  }, []);

  let content;
  if (path === '/auth/callback') content = <Callback />;
  else if (!ready) content = <Placeholder rows={3} label="Loading your session" />;
  else if (startError) content = <Alert kind="error">{errorText(startError)}</Alert>;
  else if (!api.signedIn()) content = <SignIn />;
  else if (path === '/') content = <Dashboard />;
  else if (path === '/import') content = <Import />;
  else if (path.startsWith('/day/')) content = <Day id={decodeURIComponent(path.slice(5))} />;
  else if (path === '/settings') content = <Settings />;
  else content = <NotFound />;

  const signedIn = ready && api.signedIn();
  const u = api.user();
  return (
    <div class="shell" onClick={interceptLinks}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          StillOnTime
        </a>
        {signedIn && (
          <nav aria-label="Main">
            <ul>
              <li>
                <a href="/" aria-current={path === '/' ? 'page' : undefined}>
                  Shooting days
                </a>
              </li>
              <li>
                <a href="/import" aria-current={path === '/import' ? 'page' : undefined}>
                  Import
                </a>
              </li>
              <li>
                <a href="/settings" aria-current={path === '/settings' ? 'page' : undefined}>
                  Settings
                </a>
              </li>
              <li>
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    // Signing out always forgets the session here, even when the server cannot be told.
                    void api
                      .signOut()
                      .catch(() => undefined)
                      .finally(() => navigate('/', true));
                  }}
                >
                  Sign out{u ? <span class="visually-hidden"> {u.email}</span> : null}
                </button>
              </li>
            </ul>
          </nav>
        )}
      </header>
      <main id="main">{content}</main>
    </div>
  );
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. Go back to <a href="/">your shooting days</a>.
      </p>
    </>
  );
}

render(<Shell />, document.getElementById('app') as HTMLElement);
