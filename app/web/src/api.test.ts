// The session rules of api.ts against a scripted fetch: one refresh however many callers ask
// (a spent refresh token would revoke the whole session), the error envelope as ApiError, a
// refused refresh signs out, a foreign OAuth state is refused before any request.
import { beforeEach, describe, expect, it, vi } from 'vitest';

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => m.get(k) ?? null,
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'x-request-id': 'rid-1' } });
}

let calls: { url: string; init: RequestInit }[] = [];
function useFetch(handler: Handler) {
  calls = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return handler(url, init);
  });
}

async function freshApi() {
  vi.resetModules();
  return import('./api');
}

beforeEach(() => {
  vi.unstubAllGlobals();
  vi.stubGlobal('localStorage', memoryStorage());
  vi.stubGlobal('sessionStorage', memoryStorage());
  vi.stubGlobal('navigator', {});
});

describe('api', () => {
  it('refreshes once for concurrent callers and keeps the rotated token', async () => {
    localStorage.setItem('sot.refreshToken', 'r1');
    let refreshes = 0;
    useFetch(async (url, init) => {
      if (url === '/api/auth/refresh') {
        refreshes++;
        expect(JSON.parse(String(init.body))).toEqual({ refreshToken: 'r1' });
        await new Promise((r) => setTimeout(r, 10));
        return json(200, { accessToken: 'a2', expiresIn: 3600, refreshToken: 'r2' });
      }
      if (url === '/api/auth/profile') return json(200, { user: { id: 'u', email: 'e@x', name: 'E', role: 'crew' } });
      throw new Error(`unexpected ${url}`);
    });
    const api = await freshApi();
    const results = await Promise.all([api.refresh(), api.refresh(), api.restore()]);
    expect(results).toEqual([true, true, true]);
    expect(refreshes).toBe(1);
    expect(localStorage.getItem('sot.refreshToken')).toBe('r2');
    expect(api.signedIn()).toBe(true);
    expect(api.user()?.email).toBe('e@x');
  });

  it('turns the error envelope into an ApiError with the request id', async () => {
    useFetch(() => json(422, { error: 'unprocessable_entity', message: 'lacks callTime', missing: ['callTime'], requestId: 'rid-9' }));
    const api = await freshApi();
    const err = (await api.request('POST', '/api/schedules/import', { text: 'x' }).catch((e: unknown) => e)) as InstanceType<typeof api.ApiError>;
    expect(err).toBeInstanceOf(api.ApiError);
    expect(err.status).toBe(422);
    expect(err.code).toBe('unprocessable_entity');
    expect(err.message).toBe('lacks callTime');
    expect(err.requestId).toBe('rid-9');
    expect(err.details.missing).toEqual(['callTime']);
    expect((calls[0].init.headers as Record<string, string>)['content-type']).toBe('application/json');
  });

  it('says the server could not be reached on a network failure', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    const api = await freshApi();
    const err = (await api.request('GET', '/api/schedules/upcoming').catch((e: unknown) => e)) as InstanceType<typeof api.ApiError>;
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/could not be reached/);
  });

  it('signs out when the refresh token is refused', async () => {
    localStorage.setItem('sot.refreshToken', 'spent');
    useFetch(() => json(401, { error: 'unauthorized', message: 'invalid refresh token', requestId: 'rid-2' }));
    const api = await freshApi();
    const seen = vi.fn();
    api.onSessionChange(seen);
    expect(await api.restore()).toBe(false);
    expect(localStorage.getItem('sot.refreshToken')).toBeNull();
    expect(api.signedIn()).toBe(false);
    expect(seen).toHaveBeenCalled();
  });

  it('refuses a callback whose state this tab did not start, without asking the server', async () => {
    useFetch(() => json(200, {}));
    const api = await freshApi();
    sessionStorage.setItem('sot.oauthState', 'mine');
    await expect(api.completeSignIn('code', 'theirs')).rejects.toThrow(/Sign in again/);
    expect(calls).toHaveLength(0);
  });

  it('sends a PDF as application/pdf and the bearer token once signed in', async () => {
    sessionStorage.setItem('sot.oauthState', 's1');
    useFetch((url) => {
      if (url === '/api/auth/callback') return json(200, { accessToken: 'a1', expiresIn: 3600, refreshToken: 'r1', user: { id: 'u', email: 'e@x', name: 'E', role: 'crew' } });
      return json(201, { schedule: { id: 's' }, duplicate: false });
    });
    const api = await freshApi();
    await api.completeSignIn('c1', 's1');
    await api.request('POST', '/api/schedules/import', new Blob(['%PDF-1.4']), 'application/pdf');
    const headers = calls[1].init.headers as Record<string, string>;
    expect(headers.authorization).toBe('Bearer a1');
    expect(headers['content-type']).toBe('application/pdf');
  });
});
