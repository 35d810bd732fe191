'use strict';
// Waiters: promises that resolve once a condition on an object's state holds,
// re-checked whenever the owner calls notify() (bytes arrived, a frame was
// parsed). Used by the scripted upstream server and the raw WebSocket client.

class Waiters {
  constructor() {
    this.listeners = new Set();
  }

  /** Re-checks every pending condition. */
  notify() {
    for (const listener of [...this.listeners]) listener();
  }

  /**
   * Resolves once `predicate()` holds; rejects after `timeoutMs` with
   * "`what` did not happen within N ms" followed by `detail()`.
   */
  waitFor(predicate, what, timeoutMs, detail) {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what} did not happen within ${timeoutMs} ms; ${detail()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
    });
  }
}

module.exports = { Waiters };
