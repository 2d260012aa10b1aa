import { sessionKey, today, totalsOf } from './aggregate.js';
import { SpendChart } from './chart.js';
import { DetailPane } from './detail.js';
import { el } from './dom.js';
import { FilterBar } from './filters.js';
import { formatHm, shortSession } from './format.js';
import { attachGridNav } from './grid-nav.js';
import { Header } from './header.js';
import { LogModel } from './model.js';
import type { HostMessage, LogEntry } from './protocol.js';
import { LogTable } from './table.js';
import { isHostMessage, readViewState, type VsCodeApi } from './view-state.js';

/** Entry point of the log webview: wires the host's messages to the views. */

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const view = readViewState(vscode.getState());
const collapsed = new Set(view.collapsed);
const model = new LogModel();
const knownModels = new Set<string>();

const header = new Header(() => vscode.postMessage({ type: 'refresh' }));
const chart = new SpendChart();
const filters = new FilterBar(view.filter, (f) => {
  view.filter = f;
  save();
  table.renderAll();
});
const table = new LogTable(() => ({ model, filter: view.filter, collapsed, selected: view.selected }), toggleGroup);
const detail = new DetailPane(() => closeDetail());

const app = document.getElementById('app') ?? document.body.appendChild(el('div', 'app'));
const content = el('main', 'content');
content.append(table.root, detail.root);
header.addStat(chart.root);
app.append(header.root, filters.root, content);
attachGridNav(table.table, (id) => openDetail(id, true));

function save(): void {
  vscode.setState({ filter: view.filter, collapsed: [...collapsed], selected: view.selected, detailOpen: detail.openId !== null });
}

function toggleGroup(key: string): void {
  if (collapsed.has(key)) collapsed.delete(key);
  else collapsed.add(key);
  table.setCollapsed(key, collapsed.has(key));
  save();
}

function openDetail(id: string, moveFocus: boolean): void {
  const row = model.rows.get(id);
  const entry = row ?? model.inFlight.get(id);
  if (!entry) return;
  view.selected = id;
  table.showSelected(id);
  detail.show(entry, model.clock.timeZone, row === undefined);
  if (row && !detail.hasReply(id)) vscode.postMessage({ type: 'detail', id });
  save();
  if (moveFocus) detail.focusTitle();
}

function closeDetail(): void {
  const id = detail.openId;
  detail.close();
  save();
  if (id !== null) table.rowElement(id)?.focus();
}

function refreshSpend(): void {
  const now = new Date();
  const t = today(model.rows.values(), model.clock, now);
  chart.update(t, model.clock.placeDate(now)?.hour ?? null);
  const current = model.currentSession;
  const session = current === null ? null : totalsOf(model.groups.get(sessionKey(current)) ?? []);
  header.setSpend(t.totals, session, current);
}

function refreshOptions(): void {
  knownModels.clear();
  for (const m of model.models()) knownModels.add(m);
  const sessions = model.groupOrder().map((key) => {
    const newest = model.groups.get(key)![0]!;
    return { key, label: `${shortSession(newest.session_id)} · ${formatHm(newest.created_at, model.clock.timeZone)}` };
  });
  filters.setOptions([...knownModels].sort(), sessions);
}

function onRow(r: LogEntry): void {
  const change = model.upsertRow(r);
  table.upsert(r, change);
  refreshSpend();
  const newModel = [r.model, r.served_model].some((m) => m !== null && !knownModels.has(m));
  if (newModel || model.groups.get(change.key)?.length === 1) refreshOptions();
  // A running request that was open in the pane has finished: show its full row.
  if (detail.openId === r.id) openDetail(r.id, false);
}

function handle(msg: HostMessage): void {
  switch (msg.type) {
    case 'snapshot': {
      model.applySnapshot(msg.snapshot);
      header.setConnection(model.connection, model.clock.timeZone);
      header.setBudgets(model.budgets, model.clock.timeZone);
      refreshOptions();
      table.renderAll();
      refreshSpend();
      // After a hide/show the pane comes back as the user left it.
      const reopen = detail.openId ?? (view.detailOpen ? view.selected : null);
      if (reopen !== null && (model.rows.has(reopen) || model.inFlight.has(reopen))) openDetail(reopen, false);
      else if (detail.openId !== null) closeDetail();
      break;
    }
    case 'row':
      onRow(msg.row);
      break;
    case 'start':
      if (model.addStart(msg.start)) table.addRunning(msg.start);
      break;
    case 'budgets':
      model.budgets = msg.budgets;
      header.setBudgets(model.budgets, model.clock.timeZone);
      break;
    case 'connection':
      model.connection = msg.connection;
      header.setConnection(model.connection, model.clock.timeZone);
      break;
    case 'detail':
      detail.receive(msg);
      break;
  }
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  if (isHostMessage(e.data)) handle(e.data);
});

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && detail.openId !== null) {
    e.preventDefault();
    closeDetail();
  }
});

// Today's hours roll over at midnight without any event from the host.
setInterval(refreshSpend, 60_000);

header.setConnection(model.connection, model.clock.timeZone);
table.renderAll();
refreshSpend();
vscode.postMessage({ type: 'ready' });
