// The list of upcoming shooting days with what matters before dawn: call time, place, wake-up,
// departure and weather warnings.
import { useEffect, useState } from 'preact/hooks';
import * as api from '../api';
import { clock, shortDate } from '../format';
import type { Schedule } from '../types';
import { Alert, Page, Placeholder, errorText } from '../ui';

export function Dashboard() {
  const [days, setDays] = useState<Schedule[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => {
    setError(null);
    setDays(null);
    api
      .request<{ schedules: Schedule[] }>('GET', '/api/schedules/upcoming?limit=50')
      .then((r) => setDays(r.schedules))
      .catch((e) => setError(e));
  };
  useEffect(load, []);

  return (
    <Page title="Upcoming shooting days" actions={<a class="button primary" href="/import">Import a call sheet</a>}>
      {error !== null ? (
        <Alert kind="error">
          <p>Your shooting days could not be loaded: {errorText(error)}</p>
          <button type="button" onClick={load}>
            Try again
          </button>
        </Alert>
      ) : days === null ? (
        <Placeholder rows={4} label="Loading shooting days" />
      ) : days.length === 0 ? (
        <section class="card empty">
          <h2>No shooting days ahead</h2>
          <p>
            Import the call sheet of your next day (a PDF or its text) and StillOnTime works out when to wake up and when
            to leave.
          </p>
          <a class="button primary" href="/import">
            Import a call sheet
          </a>
        </section>
      ) : (
        <ul class="days" aria-label="Shooting days">
          {days.map((d) => (
            <li key={d.id} class="day card">
              <h2>
                <a href={`/day/${d.id}`}>
                  {shortDate(d.shootingDate)}
                  {d.title ? ` · ${d.title}` : ''}
                </a>
              </h2>
              <p class="where">{d.location}</p>
              <dl class="facts">
                <div>
                  <dt>Wake up</dt>
                  <dd class="big" data-testid="wake-up">
                    {d.wakeUpTime ? clock(d.wakeUpTime, d.shootingDate) : <span class="muted">not planned</span>}
                  </dd>
                </div>
                <div>
                  <dt>Leave</dt>
                  <dd>{clock(d.departureTime, d.shootingDate)}</dd>
                </div>
                <div>
                  <dt>Call</dt>
                  <dd>{d.callTime}</dd>
                </div>
              </dl>
              {d.weatherWarnings && d.weatherWarnings.length > 0 && (
                <ul class="warnings" aria-label="Weather warnings">
                  {d.weatherWarnings.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              )}
              {!d.wakeUpTime && (
                <p class="hint">
                  <a href={`/day/${d.id}`}>Add travel times</a> to get a wake-up time.
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
