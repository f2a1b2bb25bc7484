// A small typed event emitter: listeners are called in order; a throwing listener is logged by
// the owner (through `onError`) and does not stop the others.

export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  #listeners = new Map<keyof Events, ((...args: never[]) => void)[]>();

  constructor(private readonly onError: (event: string, err: unknown) => void) {}

  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    const list = this.#listeners.get(event) ?? [];
    this.#listeners.set(event, [...list, listener]);
    return () => {
      this.#listeners.set(
        event,
        (this.#listeners.get(event) ?? []).filter((l) => l !== listener),
      );
    };
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (err) {
        this.onError(String(event), err);
      }
    }
  }

  /** Whether anyone listens to `event` (so the owner can skip building its arguments). */
  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.length ?? 0) > 0;
  }

  clear(): void {
    this.#listeners.clear();
  }
}
