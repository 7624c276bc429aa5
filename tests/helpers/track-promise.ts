// Lets a test ask whether a promise has settled yet (and how) without awaiting it: on the virtual clock "still
// pending" is often the behaviour under test.

export interface Tracked<T, E = unknown> {
  status: 'pending' | 'resolved' | 'rejected';
  value?: T;
  error?: E;
}

/** `onSettle` runs once the promise settles, after `status` is set. */
export function track<T, E = unknown>(promise: Promise<T>, onSettle?: () => void): Tracked<T, E> {
  const t: Tracked<T, E> = { status: 'pending' };
  promise.then(
    (value) => {
      t.status = 'resolved';
      t.value = value;
      onSettle?.();
    },
    (error: E) => {
      t.status = 'rejected';
      t.error = error;
      onSettle?.();
    },
  );
  return t;
}
