// One shooting day: the timeline from wake-up to call, the drive in segments, the buffers (which
// can be changed here: the plan is recalculated at once), the weather and the summary text.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { addMinutes, clock, longDate, minutes } from '../format';
import type { Buffers, Features, RoutePlan, Schedule, Weather } from '../types';
import { Alert, Field, Page, Placeholder, errorText } from '../ui';

const BUFFER_LABELS: [keyof Buffers, string][] = [
  ['morningRoutine', 'Morning routine'],
  ['carChange', 'Car change at the office'],
  ['traffic', 'Traffic'],
  ['parking', 'Parking'],
  ['entry', 'Getting on set'],
];

interface Summary {
  text: string;
  warnings: string[];
}

export function Day(props: { id: string }) {
  const [day, setDay] = useState<Schedule | null>(null);
  const [summary, setSummary] = useState<Summary | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = async () => {
    setError(null);
    try {
      const [s, status] = await Promise.all([
        api.request<{ schedule: Schedule }>('GET', `/api/schedules/${props.id}`),
        api.request<{ features: Features }>('GET', '/api/system/status'),
      ]);
      let weather = s.schedule.weather ?? null;
      if (!weather && status.features.weather) {
        weather = await api
          .request<{ weather: Weather | null }>('GET', `/api/schedules/${props.id}/weather`)
          .then((w) => w.weather)
          .catch(() => null);
      }
      const sum = await api.request<{ summary: Summary }>('GET', `/api/schedules/${props.id}/summary`);
      setDay({ ...s.schedule, weather });
      setSummary(sum.summary);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    void load();
  }, [props.id]);

  if (error !== null) {
    const gone = error instanceof api.ApiError && error.status === 404;
    return (
      <Page title={gone ? 'Shooting day not found' : 'Shooting day'}>
        <Alert kind="error">
          <p>{gone ? 'This shooting day does not exist or was deleted.' : errorText(error)}</p>
          <a href="/">Back to your shooting days</a>
        </Alert>
      </Page>
    );
  }
  if (!day || !summary) {
    return (
      <Page title="Shooting day">
        <Placeholder rows={6} label="Loading the day" />
      </Page>
    );
  }
  const plan = day.routePlan ?? null;
  return (
    <Page title={longDate(day.shootingDate)}>
      <p class="where">
        {day.title ? <strong>{day.title} · </strong> : null}
        {day.location}
        {day.baseLocation ? ` (base: ${day.baseLocation})` : ''}
      </p>
      <div class="columns">
        <section class="card" aria-labelledby="timeline-h">
          <h2 id="timeline-h">Timeline</h2>
          {plan ? <Timeline day={day} plan={plan} /> : <TravelForm id={day.id} onPlanned={() => void load()} />}
        </section>
        {plan && (
          <section class="card" aria-labelledby="route-h">
            <h2 id="route-h">Route</h2>
            <ol class="segments">
              {plan.segments.map((s, i) => (
                <li key={i}>
                  <span>
                    {s.from || 'Start'} → {s.to || 'Location'}
                  </span>
                  <span class="num">{minutes(s.minutes)}</span>
                </li>
              ))}
            </ol>
            <p>
              Driving in total: <strong>{minutes(plan.totalTravelMinutes)}</strong>
            </p>
          </section>
        )}
        {plan && <BufferForm day={day} plan={plan} onChange={(p) => {
          setDay({ ...day, routePlan: p });
          void api.request<{ summary: Summary }>('GET', `/api/schedules/${day.id}/summary`).then((s) => setSummary(s.summary)).catch(setError);
        }} />}
        <section class="card" aria-labelledby="weather-h">
          <h2 id="weather-h">Weather</h2>
          <WeatherView weather={day.weather ?? null} />
        </section>
        <section class="card wide" aria-labelledby="summary-h">
          <h2 id="summary-h">Summary</h2>
          <pre class="summary">{summary.text}</pre>
        </section>
      </div>
    </Page>
  );
}

function Timeline(props: { day: Schedule; plan: RoutePlan }) {
  const { day, plan } = props;
  const rows: [string, string][] = [
    ['Wake up', plan.wakeUpTime],
    ['Leave home', plan.departureTime],
  ];
  if (plan.segments.length > 1) {
    rows.push(['Office stop', addMinutes(plan.departureTime, plan.segments[0].minutes)]);
  }
  rows.push(['Arrive at location', plan.arrivalTime]);
  rows.push(['Call', `${day.shootingDate}T${day.callTime}:00`]);
  return (
    <ol class="timeline" data-testid="timeline">
      {rows.map(([label, at]) => (
        <li key={label}>
          <time dateTime={at}>{clock(at, day.shootingDate)}</time>
          <span>{label}</span>
        </li>
      ))}
    </ol>
  );
}

function TravelForm(props: { id: string; onPlanned: () => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const n = Number(value);
        if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 1440) {
          setError(new api.ApiError(400, 'input', 'Give the drive as whole minutes (0 to 1440).', null));
          return;
        }
        api
          .request('POST', `/api/schedules/${props.id}/route/recalculate`, { travelMinutes: n })
          .then(props.onPlanned)
          .catch(setError);
      }}
    >
      <p>No plan yet. How long is the drive from home to the location?</p>
      <Field id="travel" label="Drive (minutes)">
        <input id="travel" type="number" min={0} max={1440} value={value} onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)} />
      </Field>
      {error !== null && <Alert kind="error">{errorText(error)}</Alert>}
      <button type="submit" class="primary">
        Plan the day
      </button>
    </form>
  );
}

function BufferForm(props: { day: Schedule; plan: RoutePlan; onChange: (p: RoutePlan) => void }) {
  const [values, setValues] = useState<Record<keyof Buffers, string>>(() => {
    const b = props.plan.buffers;
    return {
      carChange: String(b.carChange),
      parking: String(b.parking),
      entry: String(b.entry),
      traffic: String(b.traffic),
      morningRoutine: String(b.morningRoutine),
    };
  });
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const buffers = {} as Buffers;
    for (const [k, label] of BUFFER_LABELS) {
      const n = Number(values[k]);
      if (values[k].trim() === '' || !Number.isInteger(n) || n < 0 || n > 240) {
        setMessage({ kind: 'error', text: `${label}: give whole minutes from 0 to 240.` });
        return;
      }
      buffers[k] = n;
    }
    setBusy(true);
    setMessage(null);
    try {
      await api.request('PUT', '/api/user/buffers', { buffers });
      const segments = props.plan.segments.map((s) => ({ from: s.from, to: s.to, minutes: s.minutes }));
      const r = await api.request<{ routePlan: RoutePlan }>('POST', `/api/schedules/${props.day.id}/route/recalculate`, { segments, buffers });
      props.onChange(r.routePlan);
      setMessage({ kind: 'ok', text: `Saved. Wake up at ${clock(r.routePlan.wakeUpTime, props.day.shootingDate)}.` });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="buffers-h">
      <h2 id="buffers-h">Buffers</h2>
      <form onSubmit={submit} noValidate>
        <div class="grid compact">
          {BUFFER_LABELS.map(([k, label]) => (
            <Field key={k} id={`buf-${k}`} label={`${label} (min)`}>
              <input id={`buf-${k}`} type="number" min={0} max={240} value={values[k]}
                onInput={(e) => setValues({ ...values, [k]: (e.currentTarget as HTMLInputElement).value })} />
            </Field>
          ))}
        </div>
        <p class="hint">Saved as your defaults too.</p>
        {message && <Alert kind={message.kind}>{message.text}</Alert>}
        <button type="submit" disabled={busy}>
          {busy ? 'Recalculating…' : 'Save and recalculate'}
        </button>
      </form>
    </section>
  );
}

function WeatherView(props: { weather: Weather | null }) {
  const w = props.weather;
  if (!w) return <p class="muted">No forecast yet. Forecasts appear up to five days ahead.</p>;
  return (
    <>
      <p>
        <strong>{w.description || 'Forecast'}</strong>, {Math.round(w.temperature)} °C at call (from {Math.round(w.minTemperature)} to{' '}
        {Math.round(w.maxTemperature)} °C)
      </p>
      <p>
        Wind up to {w.windSpeed.toFixed(1)} m/s · rain {w.precipitation.toFixed(1)} mm ({Math.round(w.precipitationProbability * 100)} %) ·
        humidity {w.humidity} %
      </p>
      {w.warnings.length > 0 ? (
        <ul class="warnings" aria-label="Weather warnings">
          {w.warnings.map((x) => (
            <li key={x}>{x}</li>
          ))}
        </ul>
      ) : (
        <p>No weather warnings.</p>
      )}
    </>
  );
}
