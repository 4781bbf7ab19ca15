// Shared pieces: the page frame (heading that takes focus on navigation, so screen readers
// announce the new page), status messages, and the loading placeholder that keeps the space
// the content will take (no layout shift when data arrives).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError } from './api';

// The first page after a full load keeps the browser's own focus (so the skip link is the first
// Tab stop); every later page moves focus to its heading.
let firstPage = true;

export function Page(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · StillOnTime`;
    if (firstPage) firstPage = false;
    else h1.current?.focus({ preventScroll: true });
  }, [props.title]);
  return (
    <>
      <div class="page-head">
        <h1 ref={h1} tabIndex={-1}>
          {props.title}
        </h1>
        {props.actions}
      </div>
      {props.children}
    </>
  );
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.requestId ? `${e.message} (request ${e.requestId})` : e.message;
  return 'Something went wrong in the page. Reload it and try again.';
}

export function Alert(props: { kind: 'error' | 'ok' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`alert alert-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

export function Placeholder(props: { rows: number; label: string }) {
  return (
    <div class="placeholder" aria-busy="true" aria-label={props.label}>
      {Array.from({ length: props.rows }, (_, i) => (
        <div key={i} class="placeholder-row" />
      ))}
    </div>
  );
}

export function Field(props: { id: string; label: string; hint?: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
    </div>
  );
}
