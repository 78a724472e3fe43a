/**
 * Waits for `work` at most `ms`: true if it settled (resolved or rejected) in time, false if not.
 * The work is not cancelled; the caller decides what to cut. Used to bound every shutdown step.
 */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms)))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
