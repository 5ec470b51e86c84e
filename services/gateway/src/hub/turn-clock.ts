/**
 * A millisecond wall clock read at most once per event-loop turn: the fan-out stamps every
 * message of a turn with one Date.now(), and uWS writes that turn's frames to the sockets
 * when the turn ends (corked), so the stamp is the write time to within the turn's length.
 */
export class TurnClock {
  #now = 0;
  #fresh = false;
  readonly #expire = (): void => {
    this.#fresh = false;
  };

  /** Wall-clock ms, the same value for every call within one turn. */
  now(): number {
    if (!this.#fresh) {
      this.#now = Date.now();
      this.#fresh = true;
      // One setImmediate per turn that fans out, none per message.
      setImmediate(this.#expire);
    }
    return this.#now;
  }
}
