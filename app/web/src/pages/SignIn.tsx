// Sign-in: the server's OAuth code flow. The button asks the server for the provider's URL (with
// a one-time state and PKCE challenge kept by the server), the provider sends the browser back to
// /auth/callback, and that page hands code and state to the server for a session.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { navigate } from '../router';
import { Alert, Page, errorText } from '../ui';

export function SignIn() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Page title="Sign in">
      <section class="card narrow">
        <p>StillOnTime plans your shooting days: when to wake up, when to leave, and what the weather will do.</p>
        {error !== null && <Alert kind="error">{errorText(error)}</Alert>}
        <button
          type="button"
          class="primary"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            setError(null);
            api.startSignIn().catch((e) => {
              setError(e);
              setBusy(false);
            });
          }}
        >
          {busy ? 'Opening Google…' : 'Sign in with Google'}
        </button>
      </section>
    </Page>
  );
}

export function Callback() {
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const q = new URLSearchParams(location.search);
    const providerError = q.get('error');
    if (providerError) {
      setError(new api.ApiError(401, 'provider', `Google did not sign you in (${providerError}). Try again.`, null));
      return;
    }
    api
      .completeSignIn(q.get('code') ?? '', q.get('state') ?? '')
      .then(() => navigate('/', true))
      .catch((e) => setError(e));
  }, []);
  return (
    <Page title="Signing in">
      {error !== null ? (
        <Alert kind="error">
          {errorText(error)} <a href="/">Back to sign-in</a>
        </Alert>
      ) : (
        <p aria-live="polite">Finishing sign-in…</p>
      )}
    </Page>
  );
}
