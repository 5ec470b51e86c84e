/**
 * Errors of the bus, discriminated by `code`.
 * @module
 */
export type BusErrorCode = 'unavailable' | 'timeout' | 'invalid' | 'closed';

export class BusError extends Error {
  readonly code: BusErrorCode;
  constructor(code: BusErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BusError';
    this.code = code;
  }
}
