/**
 * The pure core of "Connect Claude Code" (no `vscode` import): the VS Code extension and the
 * `gatehouse connect`, `gatehouse disconnect` and `gatehouse doctor` commands are front ends to it.
 */
export * from './backup.js';
export * from './connect.js';
export * from './doctor.js';
export * from './headers.js';
export * from './io.js';
export * from './precedence.js';
export * from './profile.js';
export * from './settings.js';
export * from './sse-check.js';
export * from './url.js';
