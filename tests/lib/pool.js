'use strict';
// Small helpers the bench scripts and the hostile soak share: bounded
// concurrency and percentiles.

/** Runs `fn(item)` over `items`, at most `limit` at a time; collects errors. */
async function inPool(items, limit, fn) {
  let next = 0;
  const errors = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return errors;
}

/** The p-th percentile (0-100) of `values`, NaN for none. */
const percentile = (values, p) => {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

module.exports = { inPool, percentile };
