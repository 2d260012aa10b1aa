import { isFiltering, NO_FILTER, type Filter, type StatusFilter } from './aggregate.js';
import { el } from './dom.js';

export interface SessionOption {
  key: string;
  label: string;
}

/** Search box and menus above the table. Typing is debounced: each change re-filters every row. */
export class FilterBar {
  readonly root = el('div', 'filters', null, { role: 'search' });
  readonly #text = el('input', 'filter-text', null, { type: 'search', placeholder: 'Search model, session, error, metadata', 'aria-label': 'Search requests' });
  readonly #model = el('select', 'filter-model', null, { 'aria-label': 'Model' });
  readonly #status = el('select', 'filter-status', null, { 'aria-label': 'Status' });
  readonly #session = el('select', 'filter-session', null, { 'aria-label': 'Session' });
  readonly #clear = el('button', 'text-button', 'Clear', { type: 'button' });
  #debounce: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private value: Filter,
    private readonly onChange: (f: Filter) => void,
  ) {
    for (const [v, label] of [['all', 'All statuses'], ['ok', 'OK'], ['errors', 'Errors']] as const) {
      this.#status.appendChild(el('option', '', label, { value: v }));
    }
    this.#text.value = value.text;
    this.#status.value = value.status;
    this.setOptions([], []);
    this.#text.addEventListener('input', () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => this.#emit(), 120);
    });
    for (const s of [this.#model, this.#status, this.#session]) s.addEventListener('change', () => this.#emit());
    this.#clear.addEventListener('click', () => {
      this.value = { ...NO_FILTER };
      this.#text.value = '';
      this.#model.value = '';
      this.#status.value = 'all';
      this.#session.value = '';
      this.#emit();
      this.#text.focus();
    });
    this.root.append(this.#text, this.#model, this.#status, this.#session, this.#clear);
    this.#syncClear();
  }

  /** Rebuilds the menus; a stored choice that is not in today's data stays listed, so it is visible. */
  setOptions(models: readonly string[], sessions: readonly SessionOption[]): void {
    fill(this.#model, 'All models', models.map((m) => ({ key: m, label: m })), this.value.model);
    fill(this.#session, 'All sessions', sessions, this.value.session);
  }

  #emit(): void {
    this.value = {
      text: this.#text.value,
      model: this.#model.value,
      status: this.#status.value as StatusFilter,
      session: this.#session.value,
    };
    this.#syncClear();
    this.onChange(this.value);
  }

  #syncClear(): void {
    this.#clear.hidden = !isFiltering(this.value);
  }
}

function fill(select: HTMLSelectElement, anyLabel: string, options: readonly SessionOption[], chosen: string): void {
  const list = [...options];
  if (chosen !== '' && !list.some((o) => o.key === chosen)) list.push({ key: chosen, label: `${chosen.replace(/^s:/, '')} (not in today's log)` });
  select.replaceChildren(el('option', '', anyLabel, { value: '' }), ...list.map((o) => el('option', '', o.label, { value: o.key })));
  select.value = chosen;
}
