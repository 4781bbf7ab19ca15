// The user's defaults (addresses, buffers, notifications) and the personal calendar feed. The
// feed's secret is shown only when it is made: the server keeps only its hash, so "rotate" is
// also how a lost link is replaced.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import type { Buffers, User, UserConfig } from '../types';
import { Alert, Field, Page, Placeholder, errorText } from '../ui';

const BUFFERS: [keyof Buffers, string][] = [
  ['morningRoutine', 'Morning routine'],
  ['carChange', 'Car change at the office'],
  ['traffic', 'Traffic'],
  ['parking', 'Parking'],
  ['entry', 'Getting on set'],
];

export function Settings() {
  const [config, setConfig] = useState<UserConfig | null>(null);
  const [profile, setProfile] = useState<User | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    Promise.all([
      api.request<{ config: UserConfig }>('GET', '/api/user/config'),
      api.request<{ user: User }>('GET', '/api/user/profile'),
    ])
      .then(([c, p]) => {
        setConfig(c.config);
        setProfile(p.user);
      })
      .catch(setError);
  }, []);
  return (
    <Page title="Settings">
      {error !== null ? (
        <Alert kind="error">Your settings could not be loaded: {errorText(error)} Reload the page to try again.</Alert>
      ) : !config || !profile ? (
        <Placeholder rows={6} label="Loading settings" />
      ) : (
        <div class="columns">
          <ConfigForm config={config} onSaved={setConfig} />
          <CalendarFeed enabled={!!profile.calendarFeedEnabled} />
        </div>
      )}
    </Page>
  );
}

function ConfigForm(props: { config: UserConfig; onSaved: (c: UserConfig) => void }) {
  const c = props.config;
  const [home, setHome] = useState(c.homeAddress ?? '');
  const [office, setOffice] = useState(c.officeAddress ?? '');
  const [buffers, setBuffers] = useState<Record<keyof Buffers, string>>({
    carChange: String(c.buffers.carChange),
    parking: String(c.buffers.parking),
    entry: String(c.buffers.entry),
    traffic: String(c.buffers.traffic),
    morningRoutine: String(c.buffers.morningRoutine),
  });
  const [notes, setNotes] = useState(c.notifications);
  const [sms, setSms] = useState(c.smsNumber ?? '');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    const b = {} as Buffers;
    for (const [k, label] of BUFFERS) {
      const n = Number(buffers[k]);
      if (buffers[k].trim() === '' || !Number.isInteger(n) || n < 0 || n > 240) {
        setMessage({ kind: 'error', text: `${label}: give whole minutes from 0 to 240.` });
        return;
      }
      b[k] = n;
    }
    if (notes.sms && !sms.trim()) {
      setMessage({ kind: 'error', text: 'Give a phone number for text messages, or turn them off.' });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      const r = await api.request<{ config: UserConfig }>('PUT', '/api/user/config', {
        homeAddress: home.trim() || null,
        officeAddress: office.trim() || null,
        buffers: b,
        notifications: notes,
        smsNumber: sms.trim() || null,
      });
      props.onSaved(r.config);
      setMessage({ kind: 'ok', text: 'Settings saved.' });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card" onSubmit={submit} noValidate aria-labelledby="prefs-h">
      <h2 id="prefs-h">Your defaults</h2>
      <fieldset>
        <legend>Addresses</legend>
        <Field id="home" label="Home address">
          <input id="home" type="text" autocomplete="street-address" value={home} onInput={(e) => setHome((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="office" label="Equipment office address" hint="Leave empty when you drive straight to set.">
          <input id="office" type="text" aria-describedby="office-hint" value={office}
            onInput={(e) => setOffice((e.currentTarget as HTMLInputElement).value)} />
        </Field>
      </fieldset>
      <fieldset>
        <legend>Buffers (minutes)</legend>
        <div class="grid compact">
          {BUFFERS.map(([k, label]) => (
            <Field key={k} id={`set-${k}`} label={label}>
              <input id={`set-${k}`} type="number" min={0} max={240} value={buffers[k]}
                onInput={(e) => setBuffers({ ...buffers, [k]: (e.currentTarget as HTMLInputElement).value })} />
            </Field>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Notifications</legend>
        {(['email', 'sms', 'push'] as const).map((k) => (
          <label key={k} class="check">
            <input type="checkbox" checked={notes[k]} onChange={(e) => setNotes({ ...notes, [k]: (e.currentTarget as HTMLInputElement).checked })} />{' '}
            {k === 'email' ? 'E-mail' : k === 'sms' ? 'Text message' : 'Push notification'}
          </label>
        ))}
        {notes.sms && (
          <Field id="sms" label="Phone number for text messages">
            <input id="sms" type="tel" autocomplete="tel" value={sms} onInput={(e) => setSms((e.currentTarget as HTMLInputElement).value)} />
          </Field>
        )}
      </fieldset>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Saving…' : 'Save settings'}
      </button>
    </form>
  );
}

function CalendarFeed(props: { enabled: boolean }) {
  const [enabled, setEnabled] = useState(props.enabled);
  const [url, setUrl] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const rotate = async () => {
    setMessage(null);
    try {
      const r = await api.request<{ url: string; path: string }>('POST', '/api/calendar/token');
      setUrl(new URL(r.path, location.origin).href);
      setEnabled(true);
      setMessage({ kind: 'ok', text: 'New link made. Any older link stopped working.' });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    }
  };
  const revoke = async () => {
    setMessage(null);
    try {
      await api.request('DELETE', '/api/calendar/token');
      setUrl(null);
      setEnabled(false);
      setMessage({ kind: 'ok', text: 'Calendar link turned off.' });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    }
  };
  const copy = async () => {
    if (!url) return;
    try {
      await navigator.clipboard.writeText(url);
      setMessage({ kind: 'ok', text: 'Link copied. Add it to your calendar app as a subscription.' });
    } catch {
      const input = document.getElementById('feed-url') as HTMLInputElement | null;
      input?.select();
      setMessage({ kind: 'error', text: 'Copying was blocked; the link is selected, copy it with your keyboard.' });
    }
  };

  return (
    <section class="card" aria-labelledby="feed-h">
      <h2 id="feed-h">Calendar feed</h2>
      <p>Subscribe to your shooting days, with wake-up alarms, from any calendar app.</p>
      {url ? (
        <Field id="feed-url" label="Your private calendar link" hint="Anyone with this link sees your shooting days. Rotate it if it leaks.">
          <input id="feed-url" type="text" readOnly value={url} aria-describedby="feed-url-hint" onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        </Field>
      ) : enabled ? (
        <p>A link is active. For safety it is shown only once; rotate to get a new one.</p>
      ) : (
        <p>No link yet.</p>
      )}
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      <p class="actions">
        {url && (
          <button type="button" class="primary" onClick={() => void copy()}>
            Copy link
          </button>
        )}
        <button type="button" onClick={() => void rotate()}>
          {enabled ? 'Rotate link' : 'Create link'}
        </button>
        {enabled && (
          <button type="button" onClick={() => void revoke()}>
            Turn off
          </button>
        )}
      </p>
    </section>
  );
}
