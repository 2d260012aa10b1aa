import { execFileSync } from 'node:child_process';

/** USER_HZ for /proc/<pid>/stat; 100 on every common Linux, read once to be sure. */
function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

export const sysconf = { clockTicks: clockTicks() };
