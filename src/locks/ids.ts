/**
 * Branded ids: plain numbers at run time, distinct types to the compiler. Make one from a number only
 * where the object is created (a builder, a decoder): `n as LockId`.
 */
declare const BRAND: unique symbol;

/** A number that is an id of kind `B`. */
export type Id<B extends string> = number & { readonly [BRAND]: B };

/** A lock instance in the model's lock table. */
export type LockId = Id<'lock'>;
/** A simulated thread (actor). */
export type ThreadId = Id<'thread'>;
