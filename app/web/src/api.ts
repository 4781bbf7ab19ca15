// The one door to the backend. Every call goes through request(): it adds the bearer token,
// refreshes the access token shortly before it expires (refresh tokens rotate on every use, so
// refreshes are serialised across tabs with a Web Lock and always use the latest stored token),
// and turns the server's error envelope {error, message, requestId} into an ApiError.
import type { Session, User } from './types';

const REFRESH_KEY = 'sot.refreshToken';
const STATE_KEY = 'sot.oauthState';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

let accessToken: string | null = null;
let accessExpiresAt = 0;
let currentUser: User | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
function notify(): void {
  for (const fn of listeners) fn();
}

export function user(): User | null {
  return currentUser;
}
export function signedIn(): boolean {
  return accessToken !== null;
}

function storeSession(s: Session): void {
  accessToken = s.accessToken;
  accessExpiresAt = Date.now() + s.expiresIn * 1000;
  localStorage.setItem(REFRESH_KEY, s.refreshToken);
  if (s.user) currentUser = s.user;
}

function clearSession(): void {
  accessToken = null;
  accessExpiresAt = 0;
  currentUser = null;
  localStorage.removeItem(REFRESH_KEY);
  notify();
}

async function parse(res: Response): Promise<unknown> {
  const type = res.headers.get('content-type') ?? '';
  if (res.status === 204) return null;
  if (type.includes('json')) return res.json();
  return res.text();
}

async function raw(method: string, path: string, body?: BodyInit | object, contentType?: string): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (accessToken) headers.authorization = `Bearer ${accessToken}`;
  let payload: BodyInit | undefined;
  if (body instanceof Blob || typeof body === 'string') {
    payload = body;
    if (contentType) headers['content-type'] = contentType;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.', null);
  }
  const data = await parse(res);
  if (!res.ok) {
    const env = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const message = typeof env.message === 'string' ? env.message : `The server answered ${res.status}.`;
    throw new ApiError(res.status, typeof env.error === 'string' ? env.error : 'http_error', message,
      typeof env.requestId === 'string' ? env.requestId : res.headers.get('x-request-id'), env);
  }
  return data;
}

async function rotate(): Promise<boolean> {
  const run = async (): Promise<boolean> => {
    const token = localStorage.getItem(REFRESH_KEY);
    if (!token) return false;
    try {
      const s = (await raw('POST', '/api/auth/refresh', { refreshToken: token })) as Session;
      storeSession(s);
      if (!currentUser) {
        const p = (await raw('GET', '/api/auth/profile')) as { user: User };
        currentUser = p.user;
      }
      return true;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 400)) clearSession();
      else throw e;
      return false;
    }
  };
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  return locks ? locks.request('sot-refresh', run) : run();
}

/** Refreshes the session once, however many callers ask at the same time. */
export function refresh(): Promise<boolean> {
  refreshing ??= rotate().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** On start-up: resume the session from the stored refresh token, if any. */
export async function restore(): Promise<boolean> {
  if (!localStorage.getItem(REFRESH_KEY)) return false;
  const ok = await refresh();
  notify();
  return ok;
}

export async function request<T>(method: string, path: string, body?: BodyInit | object, contentType?: string): Promise<T> {
  if (accessToken && Date.now() > accessExpiresAt - 60_000) await refresh();
  try {
    return (await raw(method, path, body, contentType)) as T;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && localStorage.getItem(REFRESH_KEY) && (await refresh())) {
      return (await raw(method, path, body, contentType)) as T;
    }
    if (e instanceof ApiError && e.status === 401) clearSession();
    throw e;
  }
}

export async function startSignIn(): Promise<void> {
  const start = (await raw('GET', '/api/auth/login')) as { authUrl: string; state: string };
  sessionStorage.setItem(STATE_KEY, start.state);
  window.location.assign(start.authUrl);
}

export async function completeSignIn(code: string, state: string): Promise<void> {
  const expected = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(STATE_KEY);
  if (!expected || expected !== state) {
    throw new ApiError(400, 'state_mismatch', 'This sign-in link is stale or was not started here. Sign in again.', null);
  }
  const s = (await raw('POST', '/api/auth/callback', { code, state })) as Session;
  storeSession(s);
  notify();
}

export async function signOut(): Promise<void> {
  const token = localStorage.getItem(REFRESH_KEY);
  try {
    if (accessToken) await raw('POST', '/api/auth/logout', token ? { refreshToken: token } : {});
  } finally {
    clearSession();
  }
}
