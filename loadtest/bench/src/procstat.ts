/** Reads CPU time and memory of processes and of the machine from /proc (Linux), and finds the bench's nats-servers. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** User + system CPU time of a process, in ms. */
export function cpuMs(pid: number): number {
  const { userMs, systemMs } = cpuSplitMs(pid);
  return userMs + systemMs;
}

/** CPU time of a process (every thread) in user space and in the kernel (system calls, and the network stack they run), in ms. */
export function cpuSplitMs(pid: number): { userMs: number; systemMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the parenthesised command name; utime and stime are the 14th and 15th fields
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userMs: (Number(rest[11]) * 1000) / CLOCK_TICKS_PER_S, systemMs: (Number(rest[12]) * 1000) / CLOCK_TICKS_PER_S };
}

/**
 * Context switches of a process so far, every thread summed (voluntary: a thread went to sleep
 * waiting for work; involuntary: it was preempted). Each hop of a message from one process or
 * thread to another costs at least one: a wake-up, and caches that start cold.
 */
export function contextSwitches(pid: number): number {
  let n = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
      n += Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch { /* the thread ended */ }
  }
  return n;
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Busy and total jiffies of the machine so far (/proc/stat, every core). */
export function machineJiffies(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((x, y) => x + y, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Pids of this process's child nats-servers by client port (testkit does not expose them). */
export function natsPids(ports: readonly number[]): number[] {
  const byPort = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid || !stat.includes('(nats-server)')) continue;
      const conf = readFileSync(readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')[2] ?? '', 'utf8');
      for (const port of ports) if (conf.includes(`listen: 127.0.0.1:${port}\n`)) byPort.set(port, Number(d));
    } catch { /* gone */ }
  }
  return ports.map((p) => {
    const pid = byPort.get(p);
    if (pid === undefined) throw new Error(`nats-server on ${p} not found`);
    return pid;
  });
}

/** The version a nats-server binary prints (`v2.9.10`), or `?`. */
export function natsServerVersion(bin: string): string {
  try {
    return /v\d+\.\d+\.\d+/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[0] ?? '?';
  } catch {
    return '?';
  }
}
