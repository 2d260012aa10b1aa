import { isError, tokensOf } from './aggregate.js';
import { previewJson, summarizeBody } from './body-summary.js';
import { el } from './dom.js';
import { formatClock, formatCost, formatInt, modelLabel, statusLabel, zonedFormat } from './format.js';
import type { HostMessage, InFlight, LogEntry } from './protocol.js';

type DetailReply = Extract<HostMessage, { type: 'detail' }>;
type Pairs = Array<[string, string | null | undefined]>;

const DATE: Intl.DateTimeFormatOptions = { dateStyle: 'medium' };

/**
 * The side pane for one request: everything in its log row, plus the body summary the host
 * sends on request. Replies are kept per id, so going back to a row does not ask again.
 */
export class DetailPane {
  readonly root = el('aside', 'detail', null, { hidden: true, 'aria-labelledby': 'detail-title' });
  readonly #title = el('h2', 'detail-title', 'Request', { id: 'detail-title', tabindex: -1 });
  readonly #subtitle = el('p', 'detail-subtitle muted');
  readonly #body = el('div', 'detail-body');
  readonly #replies = new Map<string, DetailReply>();
  #bodies: HTMLElement | null = null;
  #id: string | null = null;

  constructor(onClose: () => void) {
    const close = el('button', 'icon-button', '×', { type: 'button', 'aria-label': 'Close detail (Escape)', title: 'Close (Escape)' });
    close.addEventListener('click', onClose);
    const head = el('div', 'detail-head');
    const titles = el('div', 'detail-titles');
    titles.append(this.#title, this.#subtitle);
    head.append(titles, close);
    this.root.append(head, this.#body);
  }

  get openId(): string | null {
    return this.#id;
  }

  hasReply(id: string): boolean {
    return this.#replies.has(id);
  }

  show(entry: LogEntry | InFlight, timeZone: string, running: boolean): void {
    this.#id = entry.id;
    this.root.hidden = false;
    this.#body.replaceChildren();
    this.#bodies = null;
    const when = `${zonedFormat(timeZone, DATE).format(new Date(entry.created_at))} ${formatClock(entry.created_at, timeZone)}`;
    if (running || !('status' in entry)) {
      this.#title.textContent = entry.model ?? 'Request';
      this.#subtitle.textContent = 'running…';
      this.#section('Request', [['Request id', entry.id], ['Time', when], ['Endpoint', `${entry.endpoint}${entry.stream ? ' (stream)' : ''}`]]);
      return;
    }
    const r = entry;
    this.#title.textContent = modelLabel(r);
    this.#subtitle.textContent = statusLabel(r);
    this.#subtitle.classList.toggle('err', isError(r));
    this.#section('Request', [
      ['Request id', r.id],
      ['Time', when],
      ['Session', r.session_id ?? 'No session'],
      ['Trace id', r.trace_id ?? '—'],
      ['Endpoint', `${r.endpoint}${r.stream ? ' (stream)' : ''}`],
      ['Workspace', r.workspace],
    ]);
    const meta = this.#section('Metadata', Object.entries(r.metadata));
    if (Object.keys(r.metadata).length === 0) meta.appendChild(el('p', 'muted', 'None'));
    this.#section('Routing', [
      ['Provider', r.provider ?? '—'],
      ['Route path', r.route_path ?? '—'],
      ['Retries', String(r.retries)],
      ['Cache', r.cache_status ?? '—'],
      ['Asked model', r.model ?? '—'],
      ['Served model', r.served_model ?? '—'],
    ]);
    this.#section('Usage and cost', [
      ['Input tokens', formatInt(r.input_tokens)],
      ['Output tokens', formatInt(r.output_tokens)],
      ['Cache read', formatInt(r.cache_read_input_tokens)],
      ['Cache write', formatInt(r.cache_creation_input_tokens)],
      ['Total tokens', formatInt(tokensOf(r))],
      ['Cost', `${formatCost(r.cost_usd)}${r.usage_final ? '' : ' (estimated: the stream ended early)'}`],
      ['Latency', `${formatInt(r.latency_ms)} ms`],
      ['Time to first byte', r.ttft_ms === null ? '—' : `${formatInt(r.ttft_ms)} ms`],
    ]);
    if (isError(r)) {
      const s = this.#section('Error', [['Type', r.error_type ?? '—'], ['Code', r.error_code ?? '—'], ['Message', r.error_message ?? '—']]);
      s.classList.add('detail-error');
    }
    if (r.guardrails.length > 0) this.#section('Guardrails', r.guardrails.map((g) => [g.id, `${g.type} · ${g.action}`]));
    this.#bodies = this.#section('Request and response', []);
    const reply = this.#replies.get(r.id);
    if (reply) this.#fillBodies(reply);
    else this.#bodies.appendChild(el('p', 'muted', 'Loading the request and response summary…'));
  }

  /** A reply for a row that is no longer shown is kept for later and not drawn. */
  receive(reply: DetailReply): void {
    this.#replies.set(reply.id, reply);
    if (reply.id === this.#id) this.#fillBodies(reply);
  }

  focusTitle(): void {
    this.#title.focus();
  }

  close(): void {
    this.#id = null;
    this.root.hidden = true;
  }

  #fillBodies(reply: DetailReply): void {
    const box = this.#bodies;
    if (!box) return;
    box.querySelector('.detail-bodies')?.remove();
    box.querySelector('p.muted')?.remove();
    const out = el('div', 'detail-bodies');
    if (reply.error !== undefined) out.appendChild(el('p', 'err', `Could not load the bodies: ${reply.error}`));
    else if (reply.bodies === null) out.appendChild(el('p', 'muted', 'Bodies are not logged for this workspace.'));
    else {
      for (const [label, value] of [['Request', reply.bodies.request], ['Response', reply.bodies.response]] as const) {
        out.appendChild(el('h4', 'detail-sub', label));
        if (value === undefined || value === null) {
          out.appendChild(el('p', 'muted', 'Not logged.'));
          continue;
        }
        out.appendChild(pairsList(summarizeBody(value)));
        const raw = el('details', 'raw');
        raw.append(el('summary', '', 'JSON'), el('pre', 'raw-json', previewJson(value)));
        out.appendChild(raw);
      }
    }
    box.appendChild(out);
  }

  #section(title: string, pairs: Pairs): HTMLElement {
    const s = el('section', 'detail-section');
    s.append(el('h3', 'detail-heading', title));
    if (pairs.length > 0) s.appendChild(pairsList(pairs));
    this.#body.appendChild(s);
    return s;
  }
}

function pairsList(pairs: Pairs): HTMLDListElement {
  const dl = el('dl', 'pairs');
  for (const [k, v] of pairs) {
    if (v === null || v === undefined) continue;
    dl.append(el('dt', '', k), el('dd', '', v));
  }
  return dl;
}
