/** A typed array that grows by doubling: per-item numbers kept compactly (offsets, lengths, keys) where a JS array would box them. */
export class Growable<A extends Float64Array | Uint32Array> {
  /** The storage; items are `a[0]` … `a[length - 1]` (it may be longer). */
  a: A;
  length = 0;

  constructor(private readonly make: (size: number) => A) {
    this.a = make(1024);
  }

  push(x: number): void {
    if (this.length === this.a.length) this.a = widened(this.a, this.a.length * 2, this.make);
    this.a[this.length++] = x;
  }
}

/** A growable Float64Array (numbers up to 2^53, or doubles). */
export const growableF64 = (): Growable<Float64Array> => new Growable((n) => new Float64Array(n));
/** A growable Uint32Array. */
export const growableU32 = (): Growable<Uint32Array> => new Growable((n) => new Uint32Array(n));

/** The doubled size of an array of `length` items that must hold index `x` (`length` when it already does). */
export function sizeFor(length: number, x: number): number {
  let n = length;
  while (n <= x) n *= 2;
  return n;
}

/** `a` copied into a new array of `n` items, made by `make`. */
export function widened<A extends Uint8Array | Int32Array | Uint32Array | Float64Array>(
  a: A,
  n: number,
  make: (size: number) => A,
): A {
  const b = make(n);
  b.set(a);
  return b;
}
