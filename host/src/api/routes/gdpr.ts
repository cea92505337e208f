/** `POST /api/gdpr/erase`: a viewer's erasure request, done as `ttlp gdpr erase` does it (D-011). */
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { ErasureSummarySchema, type ErasureSummary } from '@ttlp/sdk/host-contract';
import { ErasureError, eraseUser } from '../../privacy/erasure.ts';
import { ERROR_RESPONSES, ErasureSubjectAmbiguous, ErasureSubjectNotFound, InvalidRequest, PrivacyNotConfigured } from '../errors.ts';

const EraseBody = Type.Object(
  {
    userId: Type.Optional(Type.String({ pattern: '^[0-9]{1,20}$' })),
    uniqueId: Type.Optional(Type.String({ minLength: 1, maxLength: 65 })),
  },
  { additionalProperties: false },
);

export async function gdprRoutes(app: FastifyInstance): Promise<void> {
  const { store, log } = app.services;

  app.post<{ Body: Static<typeof EraseBody> }>('/gdpr/erase', { schema: { body: EraseBody, response: { 200: ErasureSummarySchema, ...ERROR_RESPONSES } } }, async (request): Promise<ErasureSummary> => {
    const secret = app.services.pseudonymizationSecret;
    if (!secret) throw new PrivacyNotConfigured();
    try {
      const summary = await eraseUser(store, secret, request.body);
      // The subject appears in the log only as its HMAC, as in the audit row.
      log.info({ subjectHmac: summary.subjectHmac, rowsAffected: summary.rowsAffected, alreadyErased: summary.alreadyErased }, 'user erased');
      return summary;
    } catch (error) {
      if (!(error instanceof ErasureError)) throw error;
      if (error.code === 'ERASURE_SUBJECT_NOT_FOUND') throw new ErasureSubjectNotFound(error.message);
      if (error.code === 'ERASURE_SUBJECT_AMBIGUOUS') throw new ErasureSubjectAmbiguous(error.message);
      throw new InvalidRequest(error.message);
    }
  });
}
