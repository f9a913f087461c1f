/** Per-operation counts of the AWS calls the endpoint received (control-plane calls excluded), in all and per region. */
export class CallCounts {
  private readonly byOperation = new Map<string, number>();
  private readonly byRegion = new Map<string, Map<string, number>>();

  record(operation: string, region?: string): void {
    this.byOperation.set(operation, (this.byOperation.get(operation) ?? 0) + 1);
    if (region === undefined) return;
    let counts = this.byRegion.get(region);
    if (!counts) {
      counts = new Map();
      this.byRegion.set(region, counts);
    }
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
  }

  /** A copy: `{ GetSecretValue: 3, BatchGetSecretValue: 1 }`, of every region or of one; operations never called are absent. */
  snapshot(region?: string): Record<string, number> {
    if (region === undefined) return Object.fromEntries(this.byOperation);
    return Object.fromEntries(this.byRegion.get(region) ?? []);
  }

  reset(): void {
    this.byOperation.clear();
    this.byRegion.clear();
  }
}
