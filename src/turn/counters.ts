/**
 * Plain counters the engine and data plane bump; metrics read them at scrape time, so the
 * hot path pays one field increment and nothing else.
 */
export class EngineCounters {
  bindingRequests = 0;
  bindingResponses = 0;
  bindingErrors = 0;
  allocationsCreated = 0;
  allocationsReleased = 0;
  /** Responses by error code (401, 403, 437, …). */
  readonly errorResponses = new Map<number, number>();
  authFailures = 0;
  droppedMalformed = 0;
  droppedNoAllocation = 0;
  droppedNoPermission = 0;
  droppedNoChannel = 0;
  droppedUnauthenticated = 0;
  relayedToPeerPackets = 0;
  relayedToPeerBytes = 0;
  relayedToClientPackets = 0;
  relayedToClientBytes = 0;

  countError(code: number): void {
    this.errorResponses.set(code, (this.errorResponses.get(code) ?? 0) + 1);
  }
}
