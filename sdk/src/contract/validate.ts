/**
 * Validators for the published contracts, compiled once with Ajv.
 * Ajv picks the UnifiedEvent variant by its eventType discriminator, so errors
 * speak about the variant the event claims to be.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from 'typebox';
import { CaptureLineSchema, type CaptureLine } from './capture-line.ts';
import { RawEnvelopeSchema, type RawEnvelope } from './raw-envelope.ts';
import { UnifiedEventSchema, type UnifiedEvent } from './unified-event.ts';

// ajv-formats is CommonJS; under ESM its callable sits on `default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const ajv = new Ajv({ discriminator: true, allErrors: true, strict: true, allowUnionTypes: true });
addFormats(ajv, ['date-time', 'uuid']);

const unifiedEvent = ajv.compile<UnifiedEvent>(UnifiedEventSchema);
const rawEnvelope = ajv.compile<RawEnvelope>(RawEnvelopeSchema);
const captureLine = ajv.compile<CaptureLine>(CaptureLineSchema);

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath === '' ? '(root)' : e.instancePath;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` '${String(e.params.additionalProperty)}'`
        : e.keyword === 'const'
          ? ` ${JSON.stringify(e.params.allowedValue)}`
          : '';
    // ajv-keywords says only that the keyword failed; with `verbose` its schema names the properties.
    if (e.keyword === 'uniqueItemProperties' && Array.isArray(e.schema))
      return `${where} must not have two items with the same ${(e.schema as string[]).join(' and ')}`;
    return `${where} ${e.message ?? e.keyword}${extra}`;
  });
}

function run<T>(validate: ValidateFunction<T>, value: unknown): ValidationResult<T> {
  return validate(value) ? { ok: true, value } : { ok: false, errors: describeErrors(validate.errors) };
}

export function validateUnifiedEvent(value: unknown): ValidationResult<UnifiedEvent> {
  return run(unifiedEvent, value);
}

export function validateRawEnvelope(value: unknown): ValidationResult<RawEnvelope> {
  return run(rawEnvelope, value);
}

export function validateCaptureLine(value: unknown): ValidationResult<CaptureLine> {
  return run(captureLine, value);
}

/** A validator for another TypeBox schema, compiled once with the same settings as the contracts'. */
export function compileValidator<T>(schema: TSchema): (value: unknown) => ValidationResult<T> {
  const validate = ajv.compile<T>(schema);
  return (value) => run(validate, value);
}
