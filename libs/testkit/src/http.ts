/** Small HTTP probes for tests and benches. */

/** HTTP status of GET `http://127.0.0.1:<port><path>`, 0 on a transport error (bounded to 2 s). */
export async function httpStatus(port: number, path: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}
