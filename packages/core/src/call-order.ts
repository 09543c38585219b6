/**
 * The basis clock: a counter that orders, within this process, when calls start, when factories start and when
 * polls are sent. A call may take a shared result only if the result's basis comes after the call started; any
 * invalidation that resolved before the call started (in any process) then came before that basis too.
 * A counter, not a clock reading: two events in one millisecond are still ordered.
 */
let order = 0;

export function nextCallOrder(): number {
  order += 1;
  return order;
}
