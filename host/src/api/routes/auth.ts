/** Settings-page login with the admin token: a session cookie (httpOnly, SameSite=Strict). */
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { NoContentSchema, PrincipalSchema, type PrincipalView } from '@ttlp/sdk/host-contract';
import { LoginLimiter, SESSION_COOKIE } from '../auth.ts';
import { AuthInvalidToken, AuthRateLimited, AuthRequired, ERROR_RESPONSES, withDetails } from '../errors.ts';

const LoginBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });

export async function authRoutes(app: FastifyInstance): Promise<void> {
  const { tokens } = app.services;
  const limiter = app.services.loginLimiter ?? new LoginLimiter();

  app.post<{ Body: Static<typeof LoginBody> }>('/login', { schema: { body: LoginBody, response: { 204: NoContentSchema, ...ERROR_RESPONSES } } }, async (request, reply) => {
    const wait = limiter.retryAfter(request.ip);
    if (wait > 0) throw withDetails(new AuthRateLimited(wait), { retryAfter: wait });
    const session = await tokens.login(request.body.token);
    if (!session) {
      limiter.fail(request.ip);
      request.log.warn({ ip: request.ip }, 'failed settings login');
      throw new AuthInvalidToken();
    }
    reply.setCookie(SESSION_COOKIE, session.session, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: request.protocol === 'https',
      expires: session.expiresAt,
    });
    return reply.status(204).send();
  });

  app.post('/logout', { schema: { response: { 204: NoContentSchema, ...ERROR_RESPONSES } } }, async (request, reply) => {
    const session = request.cookies[SESSION_COOKIE];
    if (session) await tokens.logout(session);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });

  app.get('/me', { schema: { response: { 200: PrincipalSchema, ...ERROR_RESPONSES } } }, async (request): Promise<PrincipalView> => {
    if (!request.principal) throw new AuthRequired();
    return request.principal;
  });
}
