/**
 * Readers for the decoded connector objects. They accept exactly the shapes the
 * connector produces (64-bit numbers as decimal strings) and raise a typed
 * rejection for anything else, so a malformed message never becomes a wrong event.
 */
import { badField } from './rejection.ts';

export type Fields = Record<string, unknown>;

const DECIMAL = /^-?[0-9]{1,20}$/;

export function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An optional nested object; absent (undefined/null) gives an empty one. */
export function objectAt(value: unknown, field: string): Fields {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw badField(field, 'must be an object');
  return value;
}

export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badField(field, 'must be a string');
  return value;
}

/** A string that must be present and non-empty. */
export function requiredString(value: unknown, field: string): string {
  const text = optionalString(value, field);
  if (text === undefined || text === '') throw badField(field, 'is required');
  return text;
}

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badField(field, 'must be a boolean');
  return value;
}

/** An integer given as a number or as a decimal string (protobuf 64-bit fields). */
export function optionalInteger(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw badField(field, 'must be an integer');
    return value;
  }
  if (typeof value === 'string' && DECIMAL.test(value)) {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed)) throw badField(field, 'is out of range');
    return parsed;
  }
  throw badField(field, 'must be an integer');
}

/** Counts and prices: a missing value is 0, a negative one is malformed. */
export function count(value: unknown, field: string): number {
  const parsed = optionalInteger(value, field) ?? 0;
  if (parsed < 0) throw badField(field, 'must not be negative');
  return parsed;
}

/** A 64-bit id as its decimal string; 0 and empty mean "none". */
export function optionalId(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '' || value === 0 || value === '0') return undefined;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw badField(field, 'must be a non-negative integer id');
    return String(value);
  }
  if (typeof value === 'string' && /^[0-9]{1,20}$/.test(value)) return value;
  throw badField(field, 'must be a decimal id');
}

/** The first URL of an image model's urlList. */
export function imageUrl(value: unknown, field: string): string | undefined {
  const image = objectAt(value, field);
  const list = image.urlList;
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw badField(`${field}.urlList`, 'must be an array');
  const first = list.find((url) => typeof url === 'string' && url !== '');
  return typeof first === 'string' ? first : undefined;
}

/** Drops undefined members so the event carries only what the message had. */
export function compact<T extends Fields>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}
