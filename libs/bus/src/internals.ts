/**
 * @herald/bus/internals: pieces of the NATS bus that are not its public API, exported for the
 * benchmarks and diagnostics in this repository (loadtest/bench), which measure the real code
 * rather than a copy of it. No stability promise: they change with the bus, and the bench is
 * built and typechecked with it, so a change here breaks there at once, not silently.
 * Services use the package's main entry ("@herald/bus"), never this one.
 * @module
 */
export { headerValue, setTraceHeaders, HDR_REQUEST_ID } from './live-headers.js';
export { msgIdOf, streamConfig } from './nats-stream.js';
export { JetStreamPublisher } from './nats-publisher.js';
