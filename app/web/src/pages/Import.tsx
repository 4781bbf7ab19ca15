// Import a call sheet: upload the PDF or paste its text, check and correct what the server
// extracted, give travel times (unless the server plans routes itself), and save. The route and
// wake-up plan are computed on save and shown at once.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { clock, longDate } from '../format';
import type { Features, RoutePlan, Schedule, UserConfig } from '../types';
import { Alert, Field, Page, errorText } from '../ui';

type Extracted = Pick<Schedule, 'shootingDate' | 'callTime' | 'title' | 'location' | 'baseLocation' | 'sceneType' | 'notes'>;

export function Import() {
  const [mode, setMode] = useState<'pdf' | 'text'>('pdf');
  const [file, setFile] = useState<File | null>(null);
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [schedule, setSchedule] = useState<Schedule | null>(null);
  const [duplicate, setDuplicate] = useState(false);
  const [saved, setSaved] = useState<RoutePlan | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (mode === 'pdf' && !file) {
      setError(new api.ApiError(400, 'input', 'Choose the call sheet PDF first.', null));
      return;
    }
    if (mode === 'text' && !text.trim()) {
      setError(new api.ApiError(400, 'input', 'Paste the text of the call sheet first.', null));
      return;
    }
    setBusy(true);
    try {
      const r =
        mode === 'pdf'
          ? await api.request<{ schedule: Schedule; duplicate: boolean }>('POST', '/api/schedules/import', file as File, 'application/pdf')
          : await api.request<{ schedule: Schedule; duplicate: boolean }>('POST', '/api/schedules/import', { text });
      setSchedule(r.schedule);
      setDuplicate(r.duplicate);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (saved && schedule) {
    return (
      <Page title="Call sheet saved">
        <section class="card" aria-live="polite">
          <h2>{longDate(schedule.shootingDate)}</h2>
          <dl class="facts">
            <div>
              <dt>Wake up</dt>
              <dd class="big" data-testid="saved-wake-up">
                {clock(saved.wakeUpTime, schedule.shootingDate)}
              </dd>
            </div>
            <div>
              <dt>Leave</dt>
              <dd>{clock(saved.departureTime, schedule.shootingDate)}</dd>
            </div>
            <div>
              <dt>Call</dt>
              <dd>{schedule.callTime}</dd>
            </div>
          </dl>
          <p class="actions">
            <a class="button primary" href={`/day/${schedule.id}`}>
              Open the day
            </a>
            <a class="button" href="/">
              All shooting days
            </a>
          </p>
        </section>
      </Page>
    );
  }

  if (schedule) {
    return (
      <Page title="Check the call sheet">
        {duplicate && <Alert kind="info">This call sheet was imported before; here is what was saved then.</Alert>}
        <Review schedule={schedule} onSaved={(s, plan) => {
          setSchedule(s);
          setSaved(plan);
        }} />
      </Page>
    );
  }

  return (
    <Page title="Import a call sheet">
      <form class="card" onSubmit={submit} noValidate>
        <fieldset class="choice">
          <legend>What do you have?</legend>
          <label>
            <input type="radio" name="mode" value="pdf" checked={mode === 'pdf'} onChange={() => setMode('pdf')} /> The PDF
          </label>
          <label>
            <input type="radio" name="mode" value="text" checked={mode === 'text'} onChange={() => setMode('text')} /> Its text
          </label>
        </fieldset>
        {mode === 'pdf' ? (
          <Field id="file" label="Call sheet PDF" hint="The PDF from the production office, up to 10 MB.">
            <input id="file" type="file" accept="application/pdf,.pdf" aria-describedby="file-hint"
              onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
          </Field>
        ) : (
          <Field id="text" label="Call sheet text" hint="Paste the whole sheet; labels in English or Polish are understood.">
            <textarea id="text" rows={10} value={text} aria-describedby="text-hint"
              onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
          </Field>
        )}
        {error !== null && <ImportError error={error} />}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Reading…' : 'Read the call sheet'}
        </button>
      </form>
    </Page>
  );
}

function ImportError(props: { error: unknown }) {
  const e = props.error;
  if (e instanceof api.ApiError && e.status === 422 && Array.isArray(e.details.missing)) {
    const names: Record<string, string> = { shootingDate: 'the shooting date', callTime: 'the call time', location: 'the location' };
    const missing = (e.details.missing as string[]).map((m) => names[m] ?? m).join(', ');
    return (
      <Alert kind="error">
        <p>
          The sheet does not give {missing}. Paste its text and add the missing lines (for example{' '}
          <code>Crew Call: 06:30</code>), then read it again.
        </p>
      </Alert>
    );
  }
  return <Alert kind="error">{errorText(e)}</Alert>;
}

function Review(props: { schedule: Schedule; onSaved: (s: Schedule, plan: RoutePlan) => void }) {
  const [form, setForm] = useState<Extracted>({
    shootingDate: props.schedule.shootingDate,
    callTime: props.schedule.callTime,
    title: props.schedule.title,
    location: props.schedule.location,
    baseLocation: props.schedule.baseLocation,
    sceneType: props.schedule.sceneType,
    notes: props.schedule.notes,
  });
  const [config, setConfig] = useState<UserConfig | null>(null);
  const [features, setFeatures] = useState<Features | null>(null);
  const [toOffice, setToOffice] = useState('');
  const [toLocation, setToLocation] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    Promise.all([
      api.request<{ config: UserConfig }>('GET', '/api/user/config'),
      api.request<{ features: Features }>('GET', '/api/system/status'),
    ])
      .then(([c, s]) => {
        setConfig(c.config);
        setFeatures(s.features);
      })
      .catch(setError);
  }, []);

  const viaOffice = !!config?.officeAddress;
  const needMinutes = features !== null && !features.maps;
  const set = (k: keyof Extracted) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });

  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const a = Number(toOffice);
    const b = Number(toLocation);
    const bad = (s: string, n: number) => s.trim() === '' || !Number.isInteger(n) || n < 0 || n > 1440;
    if (needMinutes && (bad(toLocation, b) || (viaOffice && bad(toOffice, a)))) {
      setError(new api.ApiError(400, 'input', 'Give the travel times as whole minutes (0 to 1440).', null));
      return;
    }
    setBusy(true);
    try {
      const updated = await api.request<{ schedule: Schedule }>('PUT', `/api/schedules/${props.schedule.id}`, form);
      const body = !needMinutes ? {} : viaOffice ? { homeToOfficeMinutes: a, officeToLocationMinutes: b } : { travelMinutes: b };
      const route = await api.request<{ routePlan: RoutePlan }>('POST', `/api/schedules/${props.schedule.id}/route/recalculate`, body);
      if (features?.weather) {
        // The forecast is a bonus here: a day beyond the 5-day forecast still saves.
        await api.request('GET', `/api/schedules/${props.schedule.id}/weather`).catch(() => undefined);
      }
      props.onSaved(updated.schedule, route.routePlan);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <form class="card" onSubmit={save} noValidate>
      <p>This is what the sheet says. Correct anything that was read wrong.</p>
      <div class="grid">
        <Field id="shootingDate" label="Shooting date">
          <input id="shootingDate" type="date" required value={form.shootingDate} onInput={set('shootingDate')} />
        </Field>
        <Field id="callTime" label="Call time">
          <input id="callTime" type="time" required value={form.callTime} onInput={set('callTime')} />
        </Field>
        <Field id="title" label="Production">
          <input id="title" type="text" value={form.title} onInput={set('title')} />
        </Field>
        <Field id="location" label="Location">
          <input id="location" type="text" required value={form.location} onInput={set('location')} autocomplete="off" />
        </Field>
        <Field id="baseLocation" label="Base">
          <input id="baseLocation" type="text" value={form.baseLocation} onInput={set('baseLocation')} />
        </Field>
        <Field id="sceneType" label="Scene type">
          <input id="sceneType" type="text" value={form.sceneType} onInput={set('sceneType')} />
        </Field>
      </div>
      {props.schedule.scenes.length > 0 && (
        <p>
          <strong>Scenes:</strong> {props.schedule.scenes.join(', ')}
        </p>
      )}
      {needMinutes && (
        <fieldset>
          <legend>Travel times</legend>
          <p class="hint">No route service is configured, so tell StillOnTime how long the drive takes.</p>
          <div class="grid">
            {viaOffice && (
              <Field id="toOffice" label="Home to office (minutes)">
                <input id="toOffice" type="number" inputMode="numeric" min={0} max={1440} value={toOffice}
                  onInput={(e) => setToOffice((e.currentTarget as HTMLInputElement).value)} />
              </Field>
            )}
            <Field id="toLocation" label={viaOffice ? 'Office to location (minutes)' : 'Home to location (minutes)'}>
              <input id="toLocation" type="number" inputMode="numeric" min={0} max={1440} value={toLocation}
                onInput={(e) => setToLocation((e.currentTarget as HTMLInputElement).value)} />
            </Field>
          </div>
        </fieldset>
      )}
      {error !== null && <Alert kind="error">{errorText(error)}</Alert>}
      <button type="submit" class="primary" disabled={busy || features === null}>
        {busy ? 'Planning…' : 'Save and plan the day'}
      </button>
    </form>
  );
}
