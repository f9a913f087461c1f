/** Per-operation counts of the AWS calls the endpoint received (control-plane calls excluded). */
export class CallCounts {
  private readonly byOperation = new Map<string, number>();

  record(operation: string): void {
    this.byOperation.set(operation, (this.byOperation.get(operation) ?? 0) + 1);
  }

  /** A copy: `{ GetSecretValue: 3, BatchGetSecretValue: 1 }`; operations never called are absent. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.byOperation);
  }

  reset(): void {
    this.byOperation.clear();
  }
}
