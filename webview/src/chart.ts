import type { Today } from './aggregate.js';
import { el, svg } from './dom.js';
import { formatCostTotal, plural } from './format.js';

const W = 240;
const H = 48;
const SLOT = W / 24;

function hourName(h: number): string {
  return `${String(h).padStart(2, '0')}:00–${String((h + 1) % 24).padStart(2, '0')}:00`;
}

/**
 * Today's spend by hour on the developer's clock: 24 SVG bars, each with its own accessible
 * name. Bar geometry is set through attributes only, as the CSP forbids style attributes.
 */
export class SpendChart {
  readonly root = el('section', 'chart', null, { 'aria-labelledby': 'chart-title' });
  readonly #total = el('span', 'chart-total');
  readonly #bars: SVGRectElement[] = [];
  readonly #titles: SVGTitleElement[] = [];

  constructor() {
    const head = el('div', 'chart-head');
    head.append(el('h2', 'chart-title', 'Spend today by hour', { id: 'chart-title' }), this.#total);
    const plot = svg('svg', { class: 'chart-svg', viewBox: `0 0 ${W} ${H}`, width: '100%', height: H, preserveAspectRatio: 'none', role: 'list' });
    plot.appendChild(svg('line', { class: 'chart-base', x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5 }));
    for (let h = 0; h < 24; h += 1) {
      const bar = svg('rect', { class: 'bar', x: h * SLOT + 1, width: SLOT - 2, y: H, height: 0, role: 'listitem', 'data-hour': h });
      const title = svg('title');
      bar.appendChild(title);
      plot.appendChild(bar);
      this.#bars.push(bar);
      this.#titles.push(title);
    }
    const axis = el('div', 'chart-axis muted', null, { 'aria-hidden': 'true' });
    for (const label of ['00', '06', '12', '18', '24']) axis.appendChild(el('span', '', label));
    this.root.append(head, plot, axis);
  }

  update(today: Today, currentHour: number | null): void {
    const max = Math.max(...today.hours.map((b) => b.cost));
    for (const b of today.hours) {
      const bar = this.#bars[b.hour]!;
      // An hour with only unpriced requests still gets a sliver: "nothing happened" would be false.
      const height = b.cost > 0 && max > 0 ? Math.max(2, (b.cost / max) * (H - 4)) : b.requests > 0 ? 1 : 0;
      bar.setAttribute('y', String(H - height));
      bar.setAttribute('height', String(height));
      bar.classList.toggle('now', b.hour === currentHour);
      bar.classList.toggle('unpriced-only', b.cost === 0 && b.unpriced > 0);
      const label =
        b.requests === 0
          ? `${hourName(b.hour)}: no requests`
          : `${hourName(b.hour)}: ${formatCostTotal(b.cost, b.unpriced)}, ${plural(b.requests, 'request')}`;
      bar.setAttribute('aria-label', label);
      this.#titles[b.hour]!.textContent = label;
    }
    const t = today.totals;
    this.#total.textContent = t.requests === 0 ? 'No requests today' : `${formatCostTotal(t.cost, t.unpriced)} · ${plural(t.requests, 'request')}`;
  }
}
