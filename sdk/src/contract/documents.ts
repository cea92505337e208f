/** The JSON Schema documents published under docs/contracts/, generated from the TypeBox source. */
import { CaptureLineSchema } from './capture-line.ts';
import { RawEnvelopeSchema } from './raw-envelope.ts';
import { UnifiedEventSchema } from './unified-event.ts';
import { PluginManifestSchema } from '../manifest.ts';

const DIALECT = 'http://json-schema.org/draft-07/schema#';

/** File name → pretty-printed JSON text, exactly as committed. */
export function contractDocuments(): Record<string, string> {
  const render = (schema: object) => `${JSON.stringify({ $schema: DIALECT, ...schema }, null, 2)}\n`;
  return {
    'unified-event.v1.schema.json': render(UnifiedEventSchema),
    'raw-envelope.v1.schema.json': render(RawEnvelopeSchema),
    'capture.v1.schema.json': render(CaptureLineSchema),
    'plugin-manifest.v1.schema.json': render(PluginManifestSchema),
  };
}
