// Browser test of the crew UI. It starts what production runs, on loopback: PostgreSQL and Redis
// (scripts/services.sh), a real stillontime-server, and nginx with the image's own configuration
// and entrypoint serving the production build; Google's OAuth endpoints and OpenWeather are a
// fake in this process that the server is pointed at by configuration. Debian's chromium, driven
// through playwright-core, then walks the crew member's day: sign in, import a PDF call sheet,
// read the wake-up time on the dashboard, open the day, change a buffer, copy and fetch the
// calendar link, sign out. Any console error, page error or failed request fails the test; axe-core
// checks every page; screenshots and performance figures are written to OUT_DIR.
//
// Environment (set by run.sh): SERVER_BIN, SERVICES_SCRIPT, WEB_ROOT (the build), NGINX_DIR (the
// image's nginx files), CHROMIUM, OUT_DIR; SCREENSHOT_DIR to also copy the screenshots there.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through run.sh)`);
  return v;
};
const SERVER_BIN = env('SERVER_BIN');
const SERVICES_SCRIPT = env('SERVICES_SCRIPT');
const WEB_ROOT = env('WEB_ROOT');
const NGINX_DIR = env('NGINX_DIR');
const CHROMIUM = env('CHROMIUM');
const OUT_DIR = env('OUT_DIR');
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || '';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
const BUDGET_BYTES = 150 * 1024;

fs.mkdirSync(OUT_DIR, { recursive: true });
const work = fs.mkdtempSync(path.join(OUT_DIR, 'run-'));
// nginx started as root runs its workers as "nobody", who cannot reach a checkout below a private
// (0700) home: the build it serves and its runtime directory go to a directory of this run under
// /tmp, removed at the end.
const served = fs.mkdtempSync('/tmp/stillontime-web-');
fs.chmodSync(served, 0o755);
const webRoot = path.join(served, 'dist');
fs.cpSync(WEB_ROOT, webRoot, { recursive: true });
const children = [];
let failures = 0;
const figures = {};

function log(...args) {
  console.log('[web-e2e]', ...args);
}
function check(cond, what) {
  if (cond) {
    log('ok  ', what);
  } else {
    failures++;
    console.error('[web-e2e] FAIL', what);
  }
}
function must(cond, what) {
  if (!cond) throw new Error(`required: ${what}`);
  log('ok  ', what);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function start(name, cmd, args, extraEnv) {
  const out = fs.openSync(path.join(work, `${name}.log`), 'a');
  const child = spawn(cmd, args, { env: { ...process.env, ...extraEnv }, stdio: ['ignore', out, out] });
  children.push({ name, child });
  return child;
}

async function waitFor(what, fn, timeoutMs = 20000) {
  const t0 = Date.now();
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function httpJson(method, url, body, token) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, text, headers: res.headers };
}

// ---------------------------------------------------------------- the PDF call sheet
// A minimal valid PDF 1.4 (one page, Helvetica, one text line per line), the same construction
// as test/app/pdf_fixture.h, so poppler reads it like any other PDF.
function makePdf(lines) {
  let content = 'BT /F1 11 Tf 50 760 Td 14 TL\n';
  for (const line of lines) content += `(${line.replace(/[()\\]/g, (c) => `\\${c}`)}) Tj T*\n`;
  content += 'ET\n';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}endstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  let pdf = '%PDF-1.4\n%\xE2\xE3\xCF\xD3\n';
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) pdf += `${String(off).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

// ---------------------------------------------------------------- fake Google + OpenWeather
function startFakes(port, user) {
  const codes = new Map(); // code -> {challenge, redirect}
  const tokens = new Set();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (url.pathname === '/o/oauth2/v2/auth') {
      // The consent screen, approved at once: back to redirect_uri with a one-time code.
      const q = url.searchParams;
      if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('state')) {
        return send(400, { error: 'invalid_request' });
      }
      const code = randomBytes(12).toString('hex');
      codes.set(code, { challenge: q.get('code_challenge'), redirect: q.get('redirect_uri') });
      const to = new URL(q.get('redirect_uri'));
      to.searchParams.set('code', code);
      to.searchParams.set('state', q.get('state'));
      res.writeHead(302, { location: to.href });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const f = new URLSearchParams(body);
        const entry = codes.get(f.get('code'));
        codes.delete(f.get('code'));
        const verifier = f.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (!entry || entry.challenge !== challenge || entry.redirect !== f.get('redirect_uri') || f.get('client_secret') !== 'web-test-secret') {
          return send(400, { error: 'invalid_grant' });
        }
        const token = randomBytes(16).toString('hex');
        tokens.add(token);
        send(200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
      });
      return undefined;
    }
    if (url.pathname === '/userinfo') {
      const auth = req.headers.authorization ?? '';
      if (!tokens.has(auth.replace(/^Bearer /, ''))) return send(401, { error: 'invalid_token' });
      return send(200, { sub: 'google-sub-1', email: user.email, email_verified: true, name: user.name });
    }
    if (url.pathname === '/data/2.5/forecast') {
      if (url.searchParams.get('appid') !== 'web-test-weather') return send(401, { cod: 401 });
      // Five days of 3-hour steps from now: rainy and windy, so the UI has warnings to show.
      const now = Math.floor(Date.now() / 1000 / 10800) * 10800;
      const list = [];
      for (let i = 0; i < 40; i++) {
        list.push({
          dt: now + i * 10800,
          main: { temp: 4 + (i % 8), humidity: 81 },
          weather: [{ description: 'light rain' }],
          wind: { speed: 6.5, gust: 12.4 },
          rain: { '3h': 0.6 },
          pop: 0.8,
        });
      }
      return send(200, { list, city: { name: 'Warsaw', timezone: 0 } });
    }
    send(404, { error: 'not_found' });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

// ---------------------------------------------------------------- browser helpers
async function axeCheck(page, name) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.error('[web-e2e] axe', name, v.impact, v.id, v.help, v.nodes.join(' | '));
  check(bad.length === 0, `axe: no serious or critical violations on ${name} (${result.length} minor)`);
  figures.axe = figures.axe ?? {};
  figures.axe[name] = { serious: bad.length, total: result.length };
}

async function shot(page, name) {
  const file = path.join(OUT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  if (SCREENSHOT_DIR) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    fs.copyFileSync(file, path.join(SCREENSHOT_DIR, `${name}.png`));
  }
}

function watch(page, problems) {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
}

// Layout shift so far on this page (entries without recent input), read after the content is in.
function layoutShift(page) {
  return page.evaluate(
    () =>
      new Promise((resolve) => {
        let sum = 0;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) if (!e.hadRecentInput) sum += e.value;
        }).observe({ type: 'layout-shift', buffered: true });
        setTimeout(() => resolve(sum), 200);
      }),
  );
}

function isoDate(d) {
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- main
async function main() {
  figures.loadAverageAtStart = os.loadavg().map((x) => Number(x.toFixed(2)));
  const servicesDir = path.join(work, 'services');
  execFileSync(SERVICES_SCRIPT, ['up', '--dir', servicesDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const services = {};
  for (const line of fs.readFileSync(path.join(servicesDir, 'env'), 'utf8').split('\n')) {
    const m = /^export (\w+)='?(.*?)'?$/.exec(line);
    if (m) services[m[1]] = m[2];
  }

  const [fakePort, apiPort, metricsPort, webPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const user = { email: 'crew-member@example.com', name: 'Ola Crew' };
  const fakes = await startFakes(fakePort, user);
  const fake = `http://127.0.0.1:${fakePort}`;
  const web = `http://127.0.0.1:${webPort}`;
  const api = `http://127.0.0.1:${apiPort}`;

  start('server', SERVER_BIN, [], {
    PORT: String(apiPort),
    METRICS_PORT: String(metricsPort),
    BIND_ADDRESS: '127.0.0.1',
    DATABASE_URL: services.DATABASE_URL,
    REDIS_URL: services.REDIS_URL,
    REDIS_PASSWORD: services.REDIS_PASSWORD,
    JWT_SECRET: randomBytes(32).toString('hex'),
    APP_ENV: 'development',
    FRONTEND_URL: web,
    GOOGLE_CLIENT_ID: 'web-test-client',
    GOOGLE_CLIENT_SECRET: 'web-test-secret',
    GOOGLE_AUTH_URL: `${fake}/o/oauth2/v2/auth`,
    GOOGLE_TOKEN_URL: `${fake}/token`,
    GOOGLE_USERINFO_URL: `${fake}/userinfo`,
    OPENWEATHER_API_KEY: 'web-test-weather',
    OPENWEATHER_BASE_URL: fake,
    RATE_LIMIT_MAX: '100000',
    TRUST_PROXY: 'true',
  });
  await waitFor('stillontime-server /ready', async () => (await fetch(`${api}/ready`)).status === 200, 60000);

  // The entrypoint refuses a missing or unsafe BACKEND_URL, naming the variable, before nginx runs.
  for (const bad of [undefined, 'https://backend:3000', 'http://backend:3000/api', 'http://backend:3000;evil']) {
    const r = spawnSync(path.join(NGINX_DIR, 'docker-entrypoint.sh'), [], {
      env: { PATH: process.env.PATH, NGINX_RUNTIME_DIR: path.join(served, 'nginx-bad'), NGINX_WEB_ROOT: webRoot, NGINX_TEMPLATE_DIR: NGINX_DIR, ...(bad ? { BACKEND_URL: bad } : {}) },
      encoding: 'utf8',
      timeout: 10000,
    });
    check(r.status === 2 && r.stderr.startsWith('BACKEND_URL:'), `entrypoint: BACKEND_URL=${bad ?? '(unset)'} stops start-up with exit 2 (${r.stderr.trim()})`);
  }

  start('nginx', path.join(NGINX_DIR, 'docker-entrypoint.sh'), [], {
    BACKEND_URL: api,
    NGINX_LISTEN: `127.0.0.1:${webPort}`,
    NGINX_RUNTIME_DIR: path.join(served, 'nginx'),
    NGINX_WEB_ROOT: webRoot,
    NGINX_TEMPLATE_DIR: NGINX_DIR,
  });
  await waitFor('nginx /healthz', async () => (await fetch(`${web}/healthz`)).status === 200);
  log('stack up:', { web, api, fake });

  // The nginx contract, checked over HTTP before any browser.
  const index = await fetch(`${web}/day/anything`);
  const indexHtml = await index.text();
  check(index.status === 200 && indexHtml.includes('<div id="app">'), 'nginx: client-side routes fall back to index.html');
  const csp = index.headers.get('content-security-policy') ?? '';
  check(csp.includes("frame-ancestors 'none'") && csp.includes("script-src 'self'") && !csp.includes('unsafe'), 'nginx: CSP allows only self, no unsafe-*');
  check(index.headers.get('x-content-type-options') === 'nosniff', 'nginx: nosniff');
  check(index.headers.get('referrer-policy') === 'no-referrer', 'nginx: referrer policy');
  check(index.headers.get('cache-control') === 'no-cache', 'nginx: index.html is revalidated');
  const assetPaths = [...indexHtml.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  must(assetPaths.length >= 2, 'index.html names its hashed JS and CSS');
  const asset = await fetch(`${web}${assetPaths[0]}`, { headers: { 'accept-encoding': 'gzip' } });
  check(/max-age=31536000/.test(asset.headers.get('cache-control') ?? '') && /immutable/.test(asset.headers.get('cache-control') ?? ''), 'nginx: hashed assets cached for a year');
  check(asset.headers.get('content-encoding') === 'gzip', 'nginx: assets gzipped');
  const proxied = await httpJson('GET', `${web}/api/auth/status`);
  check(proxied.status === 200 && proxied.json?.authenticated === false, 'nginx: /api/ reaches the backend');
  const missing = await httpJson('GET', `${web}/api/nothing`);
  check(missing.status === 404 && typeof missing.json?.requestId === 'string', 'nginx: backend errors pass through with their envelope');

  // First page weight: what the browser downloads for "/" (JS + CSS), gzipped.
  let gz = 0;
  let raw = 0;
  for (const p of assetPaths.filter((a) => /\.(js|css)$/.test(a))) {
    const body = Buffer.from(await (await fetch(`${web}${p}`)).arrayBuffer());
    raw += body.length;
    gz += zlib.gzipSync(body, { level: 6 }).length;
  }
  figures.firstPageJsCssBytes = raw;
  figures.firstPageJsCssGzipBytes = gz;
  check(gz <= BUDGET_BYTES, `first page JS+CSS gzipped ${(gz / 1024).toFixed(1)} KiB <= 150 KiB`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  figures.browser = `chromium ${browser.version()}`;
  try {
    await journey(browser, { web, api });
  } finally {
    await browser.close();
    fakes.close();
  }
}

async function journey(browser, { web, api }) {
  const problems = [];
  const context = await browser.newContext({ viewport: DESKTOP });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: web });
  const page = await context.newPage();
  watch(page, problems);
  const tomorrow = isoDate(new Date(Date.now() + 86400000));

  // 1. Signed out: the sign-in page.
  await page.goto(`${web}/`);
  await page.getByRole('button', { name: 'Sign in with Google' }).waitFor();
  await axeCheck(page, 'sign-in');

  // 2. Sign in through the (fake) provider and back to the app.
  await page.getByRole('button', { name: 'Sign in with Google' }).click();
  await page.getByRole('heading', { name: 'No shooting days ahead' }).waitFor();
  check(new URL(page.url()).pathname === '/' && !page.url().includes('code='), 'sign-in: back on the dashboard, the code is gone from the address');
  check(true, 'signed in: the empty dashboard says what to do');
  await axeCheck(page, 'dashboard (empty)');

  // 3. Settings: home and office, so the import asks for both legs.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Home address').fill('Mokotowska 1, Warsaw');
  await page.getByLabel('Equipment office address').fill('Panavision, Wolska 43, Warsaw');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByText('Settings saved.').waitFor();
  check(true, 'settings: addresses saved');
  await axeCheck(page, 'settings');

  // 4. Import a PDF call sheet for tomorrow.
  const [y, m, d] = tomorrow.split('-');
  const pdf = makePdf(['PRODUCTION: The Long Night', `Shooting Date: ${d}.${m}.${y}`, 'Crew Call: 06:30',
    'Location: Old Brewery, Warsaw', 'Base Location: Parking lot B', 'Scene Type: EXT/NIGHT', 'Scenes: 12, 14A, 15']);
  await page.getByRole('link', { name: 'Import', exact: true }).click();
  await page.getByRole('heading', { name: 'Import a call sheet' }).waitFor();
  await axeCheck(page, 'import');
  await page.getByLabel('Call sheet PDF').setInputFiles({ name: 'call-sheet.pdf', mimeType: 'application/pdf', buffer: pdf });
  await page.getByRole('button', { name: 'Read the call sheet' }).click();
  await page.getByRole('heading', { name: 'Check the call sheet' }).waitFor();
  check((await page.getByLabel('Location', { exact: true }).inputValue()) === 'Old Brewery, Warsaw', 'import: location extracted from the PDF');
  check((await page.getByLabel('Call time', { exact: true }).inputValue()) === '06:30', 'import: call time extracted');
  check((await page.getByLabel('Shooting date').inputValue()) === tomorrow, 'import: date extracted');
  await page.getByLabel('Production', { exact: true }).fill('The Long Night (unit 2)');
  await page.getByLabel('Home to office (minutes)').fill('20');
  await page.getByLabel('Office to location (minutes)').fill('35');
  await axeCheck(page, 'import review');
  await page.getByRole('button', { name: 'Save and plan the day' }).click();
  // call 06:30 - parking 10 - entry 10 = 06:10 arrival; - traffic 20 - travel 55 - car change 15 = 04:40; - routine 45 = 03:55
  await page.getByTestId('saved-wake-up').waitFor();
  check((await page.getByTestId('saved-wake-up').textContent()) === '03:55', 'import: wake-up computed and shown (03:55)');
  await axeCheck(page, 'import saved');

  // 5. Dashboard: the wake-up time and the weather warnings.
  await page.getByRole('link', { name: 'All shooting days' }).click();
  await page.locator('li.day').first().waitFor();
  check((await page.getByTestId('wake-up').first().textContent()) === '03:55', 'dashboard: wake-up 03:55');
  const warnings = await page.locator('li.day .warnings li').allTextContents();
  check(warnings.some((w) => w.startsWith('rain')) && warnings.some((w) => w.startsWith('wind')), `dashboard: weather warnings (${warnings.join('; ')})`);
  check((await page.locator('li.day').first().textContent()).includes('04:40'), 'dashboard: departure 04:40');

  // 5b. Pasted text: a sheet without a call time is refused with what to add; the whole sheet imports.
  const inFive = isoDate(new Date(Date.now() + 5 * 86400000));
  const [y5, m5, d5] = inFive.split('-');
  const sheet = (call) => `PRODUCTION: Paper Moon\nShooting Date: ${d5}.${m5}.${y5}\n${call}Location: Main Square, Kraków\nScenes: 4, 5\n`;
  const beforeText = problems.length;
  await page.getByRole('link', { name: 'Import a call sheet' }).click();
  await page.getByLabel('Its text').check();
  await page.getByLabel('Call sheet text').fill(sheet(''));
  await page.getByRole('button', { name: 'Read the call sheet' }).click();
  await page.getByRole('alert').waitFor();
  check((await page.getByRole('alert').textContent()).includes('does not give the call time'), 'import (text): a sheet without a call time says what to add');
  await axeCheck(page, 'import (missing fields)');
  const refused = problems.splice(beforeText);
  check(refused.length > 0 && refused.every((p) => p.includes('422') || p.includes('Unprocessable')), 'import (text): the only failed request was the 422');
  await page.getByLabel('Call sheet text').fill(sheet('Crew Call: 07:15\n'));
  await page.getByRole('button', { name: 'Read the call sheet' }).click();
  await page.getByRole('heading', { name: 'Check the call sheet' }).waitFor();
  check((await page.getByLabel('Location', { exact: true }).inputValue()) === 'Main Square, Kraków', 'import (text): location extracted');
  await page.getByLabel('Home to office (minutes)').fill('10');
  await page.getByLabel('Office to location (minutes)').fill('25');
  await page.getByRole('button', { name: 'Save and plan the day' }).click();
  // 07:15 - 20 = 06:55; - 20 - 35 - 15 = 05:45; - 45 = 05:00
  await page.getByTestId('saved-wake-up').waitFor();
  check((await page.getByTestId('saved-wake-up').textContent()) === '05:00', 'import (text): wake-up 05:00');
  await page.getByRole('link', { name: 'All shooting days' }).click();
  await page.locator('li.day').nth(1).waitFor();

  // 6. Reload: still signed in, and the refresh token rotated.
  const before = await page.evaluate(() => localStorage.getItem('sot.refreshToken'));
  await page.reload();
  await page.locator('li.day').first().waitFor();
  const after = await page.evaluate(() => localStorage.getItem('sot.refreshToken'));
  check(before && after && before !== after, 'reload: session resumed with a rotated refresh token');
  const reuse = await httpJson('POST', `${api}/api/auth/refresh`, { refreshToken: before });
  check(reuse.status === 401, 'reload: the spent refresh token is refused');
  // Reuse revokes the family (server rule); sign in again for the rest of the walk.
  await page.reload();
  await page.getByRole('button', { name: 'Sign in with Google' }).waitFor();
  problems.splice(0); // the one refused refresh above was provoked on purpose
  await page.getByRole('button', { name: 'Sign in with Google' }).click();
  await page.locator('li.day').first().waitFor();

  // A second session for the API seeding below (same user, from this process).
  const seedToken = await apiLogin(api);
  for (let i = 2; i <= 3; i++) await seedDay(api, seedToken, isoDate(new Date(Date.now() + i * 86400000)), i === 2);

  // 7. Day view.
  await page.getByRole('link', { name: /The Long Night/ }).click();
  await page.getByTestId('timeline').waitFor();
  const times = await page.locator('[data-testid=timeline] time').allTextContents();
  check(times.join(' ') === '03:55 04:40 05:00 06:10 06:30', `day: timeline wake-up, leave, office, arrive, call (${times.join(' ')})`);
  check((await page.locator('.segments li').count()) === 2, 'day: two route segments');
  check((await page.locator('section[aria-labelledby=weather-h]').textContent()).includes('light rain'), 'day: weather shown');
  check((await page.locator('pre.summary').textContent()).length > 20, 'day: summary text shown');
  await axeCheck(page, 'day');
  await page.reload();
  await page.getByTestId('timeline').waitFor();
  const dayShift = await layoutShift(page);
  figures.dayViewLayoutShift = dayShift;
  check(dayShift < 0.1, `layout: day view loads with layout shift ${dayShift.toFixed(3)} < 0.1`);
  await shot(page, 'day-desktop');
  await page.setViewportSize(PHONE);
  await shot(page, 'day-phone');
  await page.setViewportSize(DESKTOP);

  // 8. Change a buffer: the wake-up time moves (45 -> 30 min routine: 03:55 -> 04:10).
  await page.getByLabel('Morning routine (min)').fill('30');
  await page.getByRole('button', { name: 'Save and recalculate' }).click();
  await page.getByText('Saved. Wake up at 04:10.').waitFor();
  check((await page.locator('[data-testid=timeline] time').first().textContent()) === '04:10', 'day: wake-up moved to 04:10 after the buffer change');
  await page.getByRole('link', { name: 'Shooting days' }).click();
  await page.locator('li.day').first().waitFor();
  check((await page.getByTestId('wake-up').first().textContent()) === '04:10', 'dashboard: shows the new wake-up');
  await axeCheck(page, 'dashboard');
  await shot(page, 'dashboard-desktop');
  await page.setViewportSize(PHONE);
  await shot(page, 'dashboard-phone');
  await axeCheck(page, 'dashboard (phone)');
  await page.setViewportSize(DESKTOP);

  // 9. Calendar link: create, copy, fetch.
  await page.getByRole('link', { name: 'Settings' }).click();
  check((await page.getByLabel('Morning routine', { exact: true }).inputValue()) === '30', 'settings: the buffer change is the new default');
  await page.getByRole('button', { name: 'Create link' }).click();
  await page.getByRole('button', { name: 'Copy link' }).click();
  await page.getByText('Link copied.').waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check(copied.startsWith(`${web}/api/calendar/feed.ics?token=`), 'calendar: link copied to the clipboard');
  const feed = await fetch(copied);
  const ics = await feed.text();
  check(feed.status === 200 && ics.includes('BEGIN:VCALENDAR') && ics.includes('Old Brewery'), 'calendar: the copied link serves the feed through nginx');
  await axeCheck(page, 'settings (feed)');
  await page.getByRole('button', { name: 'Rotate link' }).click();
  await page.getByText('New link made.').waitFor();
  check((await fetch(copied)).status !== 200, 'calendar: rotating retires the old link');

  // 10. Performance: dashboard with 50 shooting days, interactive time over five loads.
  for (let i = 4; i <= 50; i++) await seedDay(api, seedToken, isoDate(new Date(Date.now() + i * 86400000)), true);
  const samples = [];
  const shifts = [];
  for (let run = 0; run < 5; run++) {
    await page.goto(`${web}/`);
    await page.waitForFunction(() => document.querySelectorAll('li.day').length === 50);
    // Interactive: the 50 cards are in the DOM and the first day's link takes focus.
    const t = await page.evaluate(() => {
      const link = document.querySelector('li.day h2 a');
      link?.focus();
      return { ready: performance.now(), focused: document.activeElement === link };
    });
    if (!t.focused) throw new Error('dashboard: the first day link did not take focus');
    samples.push(t.ready);
    shifts.push(await layoutShift(page));
  }
  samples.sort((a, b) => a - b);
  figures.dashboard50 = { medianMs: Math.round(samples[2]), minMs: Math.round(samples[0]), maxMs: Math.round(samples[4]), samplesMs: samples.map(Math.round) };
  figures.cumulativeLayoutShift = Math.max(...shifts);
  check(samples[2] < 3000, `performance: dashboard with 50 days interactive in ${Math.round(samples[2])} ms (median of 5)`);
  check(Math.max(...shifts) < 0.1, `layout: cumulative layout shift ${Math.max(...shifts).toFixed(3)} < 0.1 while data loads`);
  const transferred = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => /\/assets\/.*\.(js|css)$/.test(e.name))
      .reduce((s, e) => s + e.encodedBodySize, 0),
  );
  if (transferred > 0) figures.firstPageJsCssTransferredBytes = transferred;

  // 11. Error state: the API failing is said plainly, with a way out; then it recovers.
  const mark = problems.length;
  await page.route('**/api/schedules/upcoming*', (r) =>
    r.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'service_unavailable', message: 'the database is not reachable', requestId: 'web-test-1' }) }),
  );
  await page.goto(`${web}/`);
  await page.getByRole('alert').waitFor();
  const alertText = await page.getByRole('alert').textContent();
  check(alertText.includes('the database is not reachable') && alertText.includes('web-test-1'), 'dashboard: error state names the problem and the request id');
  await axeCheck(page, 'dashboard (error)');
  await page.unroute('**/api/schedules/upcoming*');
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.waitForFunction(() => document.querySelectorAll('li.day').length === 50);
  check(true, 'dashboard: "Try again" recovers');
  const provoked = problems.splice(mark).filter((p) => !p.includes('503') && !p.includes('upcoming'));
  problems.push(...provoked);

  // 12. Keyboard: the skip link is the first stop and leads to the content.
  await page.goto(`${web}/`);
  await page.locator('li.day').first().waitFor();
  await page.keyboard.press('Tab');
  check((await page.evaluate(() => document.activeElement?.textContent)) === 'Skip to content', 'keyboard: first Tab reaches "Skip to content"');

  // 13. Sign out: back to sign-in, and a reload stays signed out.
  await page.getByRole('button', { name: /Sign out/ }).click();
  await page.getByRole('button', { name: 'Sign in with Google' }).waitFor();
  await page.reload();
  await page.getByRole('button', { name: 'Sign in with Google' }).waitFor();
  check((await page.evaluate(() => localStorage.getItem('sot.refreshToken'))) === null, 'sign out: no token left in the browser');

  for (const p of problems) console.error('[web-e2e]', p);
  check(problems.length === 0, `no console errors or failed requests during the walk (${problems.length})`);
  await context.close();
}

async function apiLogin(api) {
  const start = await httpJson('GET', `${api}/api/auth/login`);
  const consent = await fetch(start.json.authUrl, { redirect: 'manual' });
  const back = new URL(consent.headers.get('location'));
  const session = await httpJson('POST', `${api}/api/auth/callback`, { code: back.searchParams.get('code'), state: back.searchParams.get('state') });
  must(session.status === 200, 'API login through the fake provider');
  return session.json.accessToken;
}

async function seedDay(api, token, date, withRoute) {
  const n = Number(date.slice(8, 10));
  const title = ['Harbour Lights', 'The Quiet Hour', 'Northern Line', 'Glass Orchard', 'Paper Moon'][n % 5];
  const location = ['Studio 3, Łódź', 'Vistula Boulevards, Warsaw', 'Main Square, Kraków'][n % 3];
  const r = await httpJson('POST', `${api}/api/schedules`, { shootingDate: date, callTime: n % 2 ? '07:00' : '05:45', title, location }, token);
  if (r.status !== 201) throw new Error(`seeding failed: ${r.status} ${r.text}`);
  if (withRoute) {
    const p = await httpJson('POST', `${api}/api/schedules/${r.json.schedule.id}/route/recalculate`, { homeToOfficeMinutes: 15, officeToLocationMinutes: 90 }, token);
    if (p.status !== 200) throw new Error(`route failed: ${p.status} ${p.text}`);
  }
}

let exitCode = 0;
try {
  await main();
} catch (e) {
  console.error('[web-e2e] ERROR', e.stack ?? e);
  exitCode = 1;
}
for (const { name, child } of children.reverse()) {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => {
      const t = setTimeout(r, 5000);
      child.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
  log('stopped', name);
}
try {
  execFileSync(SERVICES_SCRIPT, ['down', '--dir', path.join(work, 'services')], { stdio: 'ignore' });
} catch {
  // best effort
}
fs.rmSync(served, { recursive: true, force: true });
fs.writeFileSync(path.join(OUT_DIR, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
log('figures', JSON.stringify(figures));
if (failures > 0 || exitCode !== 0) {
  console.error(`[web-e2e] ${failures} check(s) failed; logs in ${work}`);
  process.exit(1);
}
fs.rmSync(work, { recursive: true, force: true });
log('all checks passed');
