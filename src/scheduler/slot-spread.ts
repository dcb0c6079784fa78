// A slot's full reconciles start evenly over the first part of the slot instead of all at its start:
// the load is flat, and a replica's share is taken job by job rather than in one rush.

/** `count` start times from `slot` over `fraction` of the time to `next` (the slot's end). */
export function spreadAcrossSlot(count: number, slot: Date, next: Date | null, fraction: number): Date[] {
  const length = next ? Math.max(0, next.getTime() - slot.getTime()) : 0;
  const step = count > 0 ? (length * fraction) / count : 0;
  return Array.from({ length: count }, (_, i) => new Date(slot.getTime() + Math.floor(i * step)));
}
