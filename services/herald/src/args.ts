/** Small helpers for the CLI's argument parsing on node:util's parseArgs. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
