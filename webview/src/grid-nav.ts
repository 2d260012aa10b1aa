/**
 * Keyboard use of the table with one tab stop (roving tabindex): Tab enters the table at the
 * last focused row, ArrowUp/ArrowDown/Home/End move between rows and session headers, Enter
 * opens a row. Items are found in the DOM on each key press, so live inserts need no bookkeeping.
 */
export function attachGridNav(table: HTMLTableElement, open: (id: string) => void): void {
  const items = (): HTMLElement[] =>
    [...table.querySelectorAll<HTMLElement>('.nav-item')].filter((n) => !n.closest('[hidden]'));

  const moveTo = (target: HTMLElement | undefined): void => {
    if (!target) return;
    rove(table, target);
    target.focus();
    target.scrollIntoView({ block: 'nearest' });
  };

  table.addEventListener('keydown', (e) => {
    const current = (e.target as HTMLElement).closest<HTMLElement>('.nav-item');
    if (!current) return;
    const list = items();
    const i = list.indexOf(current);
    switch (e.key) {
      case 'ArrowDown':
        moveTo(list[Math.min(i + 1, list.length - 1)]);
        break;
      case 'ArrowUp':
        moveTo(list[Math.max(i - 1, 0)]);
        break;
      case 'Home':
        moveTo(list[0]);
        break;
      case 'End':
        moveTo(list[list.length - 1]);
        break;
      case 'Enter':
      case ' ':
        // Buttons (session headers) handle Enter and Space themselves.
        if (current.tagName === 'BUTTON' || current.dataset.id === undefined) return;
        open(current.dataset.id);
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  // A click focuses a row too; it becomes the tab stop so Tab returns to it.
  table.addEventListener('focusin', (e) => {
    const item = (e.target as HTMLElement).closest<HTMLElement>('.nav-item');
    if (item) rove(table, item);
  });

  table.addEventListener('click', (e) => {
    const tr = (e.target as HTMLElement).closest<HTMLElement>('tr.row');
    if (tr?.dataset.id !== undefined) open(tr.dataset.id);
  });
}

export function rove(table: HTMLElement, target: HTMLElement): void {
  for (const n of table.querySelectorAll('.nav-item[tabindex="0"]')) if (n !== target) n.setAttribute('tabindex', '-1');
  target.setAttribute('tabindex', '0');
}
