/**
 * The personal-data types and their typed placeholders (Presidio's `replace` operator names where
 * Presidio has the type).
 */

/** The PII types, each replaced by `<TYPE>`. */
export const PII_TYPES = [
  'EMAIL_ADDRESS',
  'PHONE_NUMBER',
  'CREDIT_CARD',
  'IBAN_CODE',
  'IP_ADDRESS',
  'US_SSN',
  'NATIONAL_ID',
  'PERSON',
  'STREET_ADDRESS',
  'POSTAL_CODE',
  'LOCATION',
  'DATE_OF_BIRTH',
] as const;
export type PiiType = (typeof PII_TYPES)[number];

/** A PII span in a string. */
export interface PiiSpan {
  type: PiiType;
  start: number;
  end: number;
}

/** The placeholder text for a type. */
export const placeholder = (t: PiiType): string => `<${t}>`;

/** True when a string is one of the placeholders (already redacted). */
export const isPiiPlaceholder = (s: string): boolean =>
  /^<[A-Z_]+>$/.test(s) && PII_TYPES.includes(s.slice(1, -1) as PiiType);
