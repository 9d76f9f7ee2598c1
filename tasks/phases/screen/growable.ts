/** A typed array that grows by doubling: per-item numbers kept compactly (offsets, lengths, keys) where a JS array would box them. */
export class Growable<A extends Float64Array | Uint32Array> {
  /** The storage; items are `a[0]` … `a[length - 1]` (it may be longer). */
  a: A;
  length = 0;

  constructor(private readonly make: (size: number) => A) {
    this.a = make(1024);
  }

  push(x: number): void {
    if (this.length === this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = x;
  }
}

/** A growable Float64Array (numbers up to 2^53, or doubles). */
export const growableF64 = (): Growable<Float64Array> => new Growable((n) => new Float64Array(n));
/** A growable Uint32Array. */
export const growableU32 = (): Growable<Uint32Array> => new Growable((n) => new Uint32Array(n));
