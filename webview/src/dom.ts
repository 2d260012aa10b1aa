/**
 * Element builders. Text goes in through `textContent` only: log values (error messages,
 * metadata) are untrusted, and nothing here ever parses a string as HTML.
 */

type Attrs = Record<string, string | number | boolean | null | undefined>;

function setAttrs(node: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    node.setAttribute(k, v === true ? '' : String(v));
  }
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text?: string | null,
  attrs: Attrs = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  setAttrs(node, attrs);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  return node;
}

export function append(parent: Node, ...children: Array<Node | null | undefined | false>): void {
  for (const c of children) if (c) parent.appendChild(c);
}
