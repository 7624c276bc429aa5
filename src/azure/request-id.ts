// Request ids ($rid) pair a twin or DPS response with its request. A decimal counter is enough: the hub only
// echoes the id, so it needs to be unique among requests in flight, not unpredictable. A counter needs no
// entropy from the crypto port, keeps topics short and makes tests deterministic. Keep one generator per client
// (not per connection) so a late answer from an earlier connection cannot match a new request.

/** Wraps back to 1 after 2^32 - 1 so ids stay short and exactly representable. */
export function createRequestIdGenerator(start = 1): () => string {
  let next = Number.isSafeInteger(start) && start >= 1 && start <= 0xffffffff ? start : 1;
  return () => {
    const id = String(next);
    next = next >= 0xffffffff ? 1 : next + 1;
    return id;
  };
}
